/// One operator of a logical plan: a tree whose leaves produce rows and whose inner nodes
/// transform the rows of their single input (``children[0]``). The plan prints as an indented
/// tree, root first, which is what `EXPLAIN` shows.
package final class PlanNode: CustomStringConvertible {
    /// A relationship variable excluded from re-use by an expansion (Cypher's relationship
    /// uniqueness within one `MATCH`); `isList` for variable-length bindings.
    package struct Excluded: Sendable {
        package var name: String
        package var isList: Bool
    }

    /// What the operator does.
    package enum Operator {
        /// One empty row.
        case start
        /// The current row of the enclosing `OPTIONAL MATCH`.
        case argument
        /// Every node (per input row).
        case allNodesScan(variable: String)
        /// Every node with a label.
        case labelScan(variable: String, label: String)
        /// The node whose internal id is the expression's value (`WHERE id(n) = …`).
        case nodeByID(variable: String, id: Expression)
        /// The nodes whose internal ids are in the expression's list (`WHERE id(n) IN …`).
        case nodeByIDs(variable: String, ids: Expression)
        /// The node whose public id is the expression's value (`WHERE elementId(n) = …`).
        case nodeByPublicID(variable: String, id: Expression)
        /// Nodes found through a property index by equality.
        case indexSeek(variable: String, label: String, property: String, value: Expression)
        /// Nodes found through a property index, one lookup per element of a list (`IN`).
        case indexSeekAny(variable: String, label: String, property: String, values: Expression)
        /// Nodes found through a property index by range.
        case indexRange(
            variable: String, label: String, property: String, lower: (Expression, Bool)?,
            upper: (Expression, Bool)?)
        /// One hop from a bound node.
        case expand(
            from: String, relationship: String, to: String, direction: ExpandDirection, types: [String],
            toBound: Bool, relationshipBound: Bool, properties: Expression?, excluded: [Excluded])
        /// `min...max` hops from a bound node; binds a list of relationships.
        case varExpand(
            from: String, relationship: String, to: String, direction: ExpandDirection, types: [String],
            min: Int, max: Int, toBound: Bool, properties: Expression?, excluded: [Excluded], reversed: Bool)
        /// The shortest path(s) between two bound nodes, by breadth-first search; binds the
        /// relationship list and the path.
        case shortestPath(
            from: String, relationship: String, to: String, direction: ExpandDirection, types: [String], min: Int,
            max: Int, all: Bool, path: String?, properties: Expression?)
        /// Keeps rows where the predicate is true.
        case filter(Expression)
        /// Runs `children[1]` once per input row (starting from `argument`); emits its rows, or the
        /// input row with `introduced` set to null when it has none.
        case optional(introduced: [String])
        /// Computes named expressions; keeps the input's variables too when `keepInput`.
        case project([(String, Expression)], keepInput: Bool)
        /// Groups by `keys` and computes the aggregates (stored in hidden slots).
        case aggregate(keys: [(String, Expression)], aggregates: [Expression])
        /// `count` over a whole label (or all nodes), answered from the graph's counts: one row with
        /// the aggregate's value.
        case nodeCount(label: String?, aggregate: Expression)
        /// Removes duplicate rows over `columns`.
        case distinct(columns: [String])
        /// Sorts; keeps only the first `limit` rows when given (top-k, bounded memory).
        case sort([SortItem], limit: Expression?)
        case skip(Expression)
        case limit(Expression)
        /// Keeps only the named variables.
        case select([String])
        case unwind(Expression, alias: String)
        /// Calls a registered read-only procedure per input row.
        case call(procedure: String, arguments: [Expression], yields: [(field: String, alias: String)])
        /// Binds a path from the pattern's nodes and relationships.
        case buildPath(variable: String, nodes: [String], relationships: [(String, Bool)])
        /// Creates the pattern's new nodes and relationships per row (fixtures only).
        case create([PatternPart])
        /// Deletes nodes or relationships per row (fixtures only).
        case delete([Expression], detach: Bool)
        /// Concatenates the children's rows (distinct unless `all`).
        case union(all: Bool, columns: [String])
    }

    package let op: Operator
    package var children: [PlanNode]
    /// The planner's estimate of the rows this operator produces, when it has one.
    package var estimatedRows: Double?

    package init(_ op: Operator, _ children: [PlanNode] = [], estimatedRows: Double? = nil) {
        self.op = op
        self.children = children
        self.estimatedRows = estimatedRows
    }

    /// The operator's name as `EXPLAIN`/`PROFILE` print it.
    package var name: String {
        switch op {
        case .start: return "Start"
        case .argument: return "Argument"
        case .allNodesScan: return "AllNodesScan"
        case .labelScan: return "NodeByLabelScan"
        case .nodeByID, .nodeByIDs: return "NodeByIdSeek"
        case .nodeByPublicID: return "NodeByElementIdSeek"
        case .indexSeek, .indexSeekAny: return "NodeIndexSeek"
        case .indexRange: return "NodeIndexRangeSeek"
        case .expand: return "Expand"
        case .varExpand: return "VarLengthExpand"
        case .shortestPath(_, _, _, _, _, _, _, let all, _, _): return all ? "AllShortestPaths" : "ShortestPath"
        case .filter: return "Filter"
        case .optional: return "Optional"
        case .project: return "Projection"
        case .aggregate: return "Aggregation"
        case .nodeCount: return "NodeCountFromCountStore"
        case .distinct: return "Distinct"
        case .sort(_, let limit): return limit == nil ? "Sort" : "Top"
        case .skip: return "Skip"
        case .limit: return "Limit"
        case .select: return "Select"
        case .unwind: return "Unwind"
        case .call: return "ProcedureCall"
        case .buildPath: return "BuildPath"
        case .union(let all, _): return all ? "UnionAll" : "Union"
        case .create: return "Create"
        case .delete: return "Delete"
        }
    }

    private static func show(_ name: String) -> String { name.hasPrefix("  ") ? "anon_" + name.dropFirst(2) : name }

    private static func arrow(
        _ from: String, _ rel: String, _ to: String, _ direction: ExpandDirection,
        _ types: [String], _ length: String
    ) -> String {
        let body = "[\(show(rel))" + (types.isEmpty ? "" : ":" + types.joined(separator: "|")) + length + "]"
        switch direction {
        case .outgoing: return "(\(show(from)))-\(body)->(\(show(to)))"
        case .incoming: return "(\(show(from)))<-\(body)-(\(show(to)))"
        case .both: return "(\(show(from)))-\(body)-(\(show(to)))"
        }
    }

    /// The operator's arguments, as printed.
    package var details: String {
        switch op {
        case .start, .argument: return ""
        case .allNodesScan(let variable): return "(\(Self.show(variable)))"
        case .labelScan(let variable, let label): return "(\(Self.show(variable)):\(label))"
        case .nodeByID(let variable, let id): return "(\(Self.show(variable))) id = \(id)"
        case .nodeByIDs(let variable, let ids): return "(\(Self.show(variable))) id IN \(ids)"
        case .indexSeekAny(let variable, let label, let property, let values):
            return "(\(Self.show(variable)):\(label)) \(property) IN \(values)"
        case .nodeByPublicID(let variable, let id): return "(\(Self.show(variable))) elementId = \(id)"
        case .indexSeek(let variable, let label, let property, let value):
            return "(\(Self.show(variable)):\(label)) \(property) = \(value)"
        case .indexRange(let variable, let label, let property, let lower, let upper):
            var text = "(\(Self.show(variable)):\(label)) "
            if let lower { text += "\(lower.0) \(lower.1 ? "<=" : "<") " }
            text += property
            if let upper { text += " \(upper.1 ? "<=" : "<") \(upper.0)" }
            return text
        case .expand(let from, let relationship, let to, let direction, let types, let toBound, _, let properties, _):
            return Self.arrow(from, relationship, to, direction, types, "") + (toBound ? " (into)" : "")
                + (properties.map { " \($0)" } ?? "")
        case .varExpand(
            let from, let relationship, let to, let direction, let types, let min, let max, let toBound,
            let properties, _, _):
            return Self.arrow(from, relationship, to, direction, types, "*\(min)..\(max)") + (toBound ? " (into)" : "")
                + (properties.map { " \($0)" } ?? "")
        case .shortestPath(
            let from, let relationship, let to, let direction, let types, let min, let max, _, let path, _):
            return (path.map { Self.show($0) + " = " } ?? "")
                + Self.arrow(from, relationship, to, direction, types, "*\(min)..\(max)")
        case .filter(let predicate): return predicate.description
        case .optional(let introduced): return introduced.map(Self.show).joined(separator: ", ")
        case .project(let items, _):
            return items.map { "\($0.1) AS \(Self.show($0.0))" }.joined(separator: ", ")
        case .aggregate(let keys, let aggregates):
            return "keys: [" + keys.map { "\($0.1) AS \(Self.show($0.0))" }.joined(separator: ", ") + "], aggregates: ["
                + aggregates.map(\.description).joined(separator: ", ") + "]"
        case .nodeCount(let label, let aggregate): return "\(aggregate) of (" + (label.map { ":" + $0 } ?? "") + ")"
        case .distinct(let columns): return columns.map(Self.show).joined(separator: ", ")
        case .sort(let items, let limit):
            return items.map { "\($0.expression)\($0.ascending ? "" : " DESC")" }.joined(separator: ", ")
                + (limit.map { " LIMIT \($0)" } ?? "")
        case .skip(let count), .limit(let count): return count.description
        case .select(let columns): return columns.map(Self.show).joined(separator: ", ")
        case .unwind(let expression, let alias): return "\(expression) AS \(Self.show(alias))"
        case .call(let procedure, let arguments, let yields):
            return procedure + "(" + arguments.map(\.description).joined(separator: ", ") + ") YIELD "
                + yields.map { $0.field == $0.alias ? $0.field : "\($0.field) AS \($0.alias)" }.joined(separator: ", ")
        case .buildPath(let variable, _, _): return Self.show(variable)
        case .union(_, let columns): return columns.joined(separator: ", ")
        case .create(let parts): return parts.map(\.description).joined(separator: ", ")
        case .delete(let targets, _): return targets.map(\.description).joined(separator: ", ")
        }
    }

    /// The plan as an indented tree, one operator per line, root first.
    package var description: String {
        var lines: [String] = []
        render(
            into: &lines, indent: 0,
            annotate: { node in
                node.estimatedRows.map { rows in
                    " {est. " + (rows < 10 ? String((rows * 10).rounded() / 10) : String(Int(rows.rounded()))) + "}"
                } ?? ""
            })
        return lines.joined(separator: "\n")
    }

    /// Renders the tree with a per-node annotation appended to each line.
    package func render(into lines: inout [String], indent: Int, annotate: (PlanNode) -> String) {
        let detail = details
        lines.append(
            String(repeating: "  ", count: indent) + "+" + name + (detail.isEmpty ? "" : " " + detail)
                + annotate(self))
        for child in children.reversed() where !(child.op.isStart) {
            child.render(into: &lines, indent: indent + (children.count > 1 ? 1 : 0), annotate: annotate)
        }
    }
}

extension PlanNode.Operator {
    var isStart: Bool {
        if case .start = self { return true }
        return false
    }
}
