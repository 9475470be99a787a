package import EngramCore

/// An expression of the query, with the source range it was parsed from.
package struct Expression: Sendable, CustomStringConvertible {
    /// The operators of binary expressions.
    package enum BinaryOperator: String, Sendable {
        case or = "OR", xor = "XOR", and = "AND"
        case equal = "=", notEqual = "<>", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">="
        case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", power = "^"
        case `in` = "IN", startsWith = "STARTS WITH", endsWith = "ENDS WITH", contains = "CONTAINS"
        case regex = "=~"
    }

    /// The operators of unary expressions.
    package enum UnaryOperator: String, Sendable {
        case not = "NOT", minus = "-", plus = "+"
    }

    /// The shape of an expression.
    package indirect enum Kind: Sendable {
        case literal(PropertyValue)
        case parameter(String)
        case variable(String)
        case property(Expression, String)
        case list([Expression])
        case map([(String, Expression)])
        case index(Expression, Expression)
        case slice(Expression, Expression?, Expression?)
        case unary(UnaryOperator, Expression)
        case binary(BinaryOperator, Expression, Expression)
        case isNull(Expression, negated: Bool)
        case hasLabels(Expression, [String])
        /// A function call; `name` keeps the user's spelling, namespaces joined by `.`.
        case function(name: String, distinct: Bool, arguments: [Expression])
        case countStar
        /// `CASE [subject] WHEN … THEN … [ELSE …] END`.
        case caseExpression(subject: Expression?, branches: [(Expression, Expression)], otherwise: Expression?)
        /// `[variable IN list WHERE predicate | projection]`.
        case listComprehension(variable: String, list: Expression, predicate: Expression?, projection: Expression?)
        /// `all|any|none|single(variable IN list WHERE predicate)`.
        case quantifier(Quantifier, variable: String, list: Expression, predicate: Expression)
        /// `base {.key, key: expression, variable, .*}`.
        case mapProjection(Expression, [MapProjectionItem])
        /// A pattern used as a predicate (`WHERE (a)-[:KNOWS]->()`): true when it has a match. All
        /// its named variables must already be bound.
        case patternPredicate(PatternPart)
        /// `EXISTS { [MATCH] pattern [WHERE predicate] }`: true when the pattern has a match; it may
        /// introduce variables of its own.
        case existsSubquery([PatternPart], Expression?)
    }

    /// The quantifiers over lists.
    package enum Quantifier: String, Sendable {
        case all, any, none, single
    }

    /// One item of a map projection.
    package enum MapProjectionItem: Sendable {
        case property(String)
        case allProperties
        case entry(String, Expression)
        case variable(String)
    }

    package var kind: Kind
    package var range: SourceRange
    /// For a resolved `variable`, its row slot (see `SlotLayout`); `-1` otherwise.
    package var slot: Int = -1

    package init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    /// A canonical, fully parenthesised rendering; two expressions with the same rendering are the
    /// same expression (used to match `ORDER BY` items against projections).
    package var description: String {
        switch kind {
        case .literal(let value): return value.description
        case .parameter(let name): return "$" + name
        case .variable(let name): return name
        case .property(let base, let key): return "\(base).\(key)"
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries): return "{" + entries.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        case .index(let base, let index): return "\(base)[\(index)]"
        case .slice(let base, let from, let to):
            return "\(base)[\(from?.description ?? "")..\(to?.description ?? "")]"
        case .unary(let op, let operand): return op == .not ? "(NOT \(operand))" : "(\(op.rawValue)\(operand))"
        case .binary(let op, let lhs, let rhs): return "(\(lhs) \(op.rawValue) \(rhs))"
        case .isNull(let operand, let negated): return "(\(operand) IS \(negated ? "NOT " : "")NULL)"
        case .hasLabels(let operand, let labels): return "(\(operand)" + labels.map { ":" + $0 }.joined() + ")"
        case .function(let name, let distinct, let arguments):
            return name.lowercased() + "(" + (distinct ? "DISTINCT " : "")
                + arguments.map(\.description).joined(separator: ", ") + ")"
        case .countStar: return "count(*)"
        case .caseExpression(let subject, let branches, let otherwise):
            return "CASE" + (subject.map { " \($0)" } ?? "") + branches.map { " WHEN \($0.0) THEN \($0.1)" }.joined()
                + (otherwise.map { " ELSE \($0)" } ?? "") + " END"
        case .listComprehension(let variable, let list, let predicate, let projection):
            return "[\(variable) IN \(list)" + (predicate.map { " WHERE \($0)" } ?? "")
                + (projection.map { " | \($0)" } ?? "") + "]"
        case .quantifier(let quantifier, let variable, let list, let predicate):
            return "\(quantifier.rawValue)(\(variable) IN \(list) WHERE \(predicate))"
        case .patternPredicate(let part): return part.description
        case .existsSubquery(let parts, let predicate):
            return "EXISTS { MATCH " + parts.map(\.description).joined(separator: ", ")
                + (predicate.map { " WHERE \($0)" } ?? "") + " }"
        case .mapProjection(let base, let items):
            return "\(base) {"
                + items.map { item in
                    switch item {
                    case .property(let key): return "." + key
                    case .allProperties: return ".*"
                    case .entry(let key, let value): return "\(key): \(value)"
                    case .variable(let name): return name
                    }
                }.joined(separator: ", ") + "}"
        }
    }

    /// The immediate sub-expressions.
    package var children: [Expression] {
        switch kind {
        case .literal, .parameter, .variable, .countStar: return []
        case .property(let base, _): return [base]
        case .list(let items): return items
        case .map(let entries): return entries.map(\.1)
        case .index(let base, let index): return [base, index]
        case .slice(let base, let from, let to): return [base] + [from, to].compactMap { $0 }
        case .unary(_, let operand): return [operand]
        case .binary(_, let lhs, let rhs): return [lhs, rhs]
        case .isNull(let operand, _): return [operand]
        case .hasLabels(let operand, _): return [operand]
        case .function(_, _, let arguments): return arguments
        case .caseExpression(let subject, let branches, let otherwise):
            return [subject].compactMap { $0 } + branches.flatMap { [$0.0, $0.1] } + [otherwise].compactMap { $0 }
        case .listComprehension(_, let list, let predicate, let projection):
            return [list] + [predicate, projection].compactMap { $0 }
        case .quantifier(_, _, let list, let predicate): return [list, predicate]
        case .patternPredicate(let part):
            return part.namedVariables.map { Expression(.variable($0), part.range) }
        case .existsSubquery: return []
        case .mapProjection(let base, let items):
            return [base]
                + items.compactMap { item in
                    switch item {
                    case .entry(_, let value): return value
                    case .variable(let name): return Expression(.variable(name), base.range)
                    default: return nil
                    }
                }
        }
    }

    /// Whether the expression is a pattern predicate.
    package var isPatternPredicate: Bool {
        if case .patternPredicate = kind { return true }
        return false
    }

    /// Whether the expression is a call of an aggregating function (`count`, `collect`, …).
    package var isAggregate: Bool {
        switch kind {
        case .countStar: return true
        case .function(let name, _, _): return FunctionLibrary.aggregateNames.contains(name.lowercased())
        default: return false
        }
    }

    /// Whether any sub-expression (or the expression itself) aggregates.
    package var containsAggregate: Bool {
        isAggregate || children.contains { $0.containsAggregate }
    }

    /// The variables the expression reads.
    package var variables: Set<String> {
        switch kind {
        case .variable(let name): return [name]
        case .listComprehension(let variable, let list, let predicate, let projection):
            var inner: Set<String> = []
            for expression in [predicate, projection].compactMap({ $0 }) { inner.formUnion(expression.variables) }
            inner.remove(variable)
            return list.variables.union(inner)
        case .quantifier(_, let variable, let list, let predicate):
            var inner = predicate.variables
            inner.remove(variable)
            return list.variables.union(inner)
        case .existsSubquery(let parts, let predicate):
            // Outer and inner names alike: such a predicate is placed after the whole pattern.
            return Set(parts.flatMap(\.namedVariables)).union(predicate?.variables ?? [])
        default: break
        }
        var names: Set<String> = []
        for child in children { names.formUnion(child.variables) }
        return names
    }

    /// A copy with every sub-expression for which `transform` returns a replacement replaced,
    /// outermost first.
    package func rewritten(_ transform: (Expression) -> Expression?) -> Expression {
        if let replacement = transform(self) { return replacement }
        func go(_ expression: Expression) -> Expression { expression.rewritten(transform) }
        var copy = self
        switch kind {
        case .literal, .parameter, .variable, .countStar, .patternPredicate, .existsSubquery: return self
        case .property(let base, let key): copy.kind = .property(go(base), key)
        case .list(let items): copy.kind = .list(items.map(go))
        case .map(let entries): copy.kind = .map(entries.map { ($0.0, go($0.1)) })
        case .index(let base, let index): copy.kind = .index(go(base), go(index))
        case .slice(let base, let from, let to): copy.kind = .slice(go(base), from.map(go), to.map(go))
        case .unary(let op, let operand): copy.kind = .unary(op, go(operand))
        case .binary(let op, let lhs, let rhs): copy.kind = .binary(op, go(lhs), go(rhs))
        case .isNull(let operand, let negated): copy.kind = .isNull(go(operand), negated: negated)
        case .hasLabels(let operand, let labels): copy.kind = .hasLabels(go(operand), labels)
        case .function(let name, let distinct, let arguments):
            copy.kind = .function(name: name, distinct: distinct, arguments: arguments.map(go))
        case .caseExpression(let subject, let branches, let otherwise):
            copy.kind = .caseExpression(
                subject: subject.map(go), branches: branches.map { (go($0.0), go($0.1)) }, otherwise: otherwise.map(go))
        case .listComprehension(let variable, let list, let predicate, let projection):
            copy.kind = .listComprehension(
                variable: variable, list: go(list), predicate: predicate.map(go), projection: projection.map(go))
        case .quantifier(let quantifier, let variable, let list, let predicate):
            copy.kind = .quantifier(quantifier, variable: variable, list: go(list), predicate: go(predicate))
        case .mapProjection(let base, let items):
            copy.kind = .mapProjection(
                go(base),
                items.map { item in
                    if case .entry(let key, let value) = item { return .entry(key, go(value)) }
                    return item
                })
        }
        return copy
    }
}

/// The direction of a relationship pattern.
package enum PatternDirection: String, Sendable {
    /// `-[]->`
    case outgoing
    /// `<-[]-`
    case incoming
    /// `-[]-`
    case both
}

/// A node pattern `(var:Label {key: value})`.
package struct NodePattern: Sendable, CustomStringConvertible {
    package var variable: String?
    package var labels: [String]
    package var properties: Expression?
    package var range: SourceRange

    package var description: String {
        "(" + (variable ?? "") + labels.map { ":" + $0 }.joined() + (properties.map { " \($0)" } ?? "") + ")"
    }
}

/// A relationship pattern `-[var:T1|T2*1..3 {key: value}]->`.
package struct RelationshipPattern: Sendable, CustomStringConvertible {
    package var variable: String?
    package var types: [String]
    package var direction: PatternDirection
    /// `nil` for a single hop; otherwise the bounds of a variable-length pattern (`nil` bound =
    /// unspecified).
    package var length: (min: Int?, max: Int?)?
    package var properties: Expression?
    package var range: SourceRange

    package var description: String {
        var body = variable ?? ""
        if !types.isEmpty { body += ":" + types.joined(separator: "|") }
        if let length {
            body += "*" + (length.min.map(String.init) ?? "") + ".." + (length.max.map(String.init) ?? "")
        }
        if let properties { body += " \(properties)" }
        switch direction {
        case .outgoing: return "-[\(body)]->"
        case .incoming: return "<-[\(body)]-"
        case .both: return "-[\(body)]-"
        }
    }
}

/// One comma-separated part of a pattern: an optional path variable and a chain of nodes and
/// relationships.
package struct PatternPart: Sendable, CustomStringConvertible {
    /// `shortestPath(…)` or `allShortestPaths(…)` around a part.
    package enum Shortest: String, Sendable, CaseIterable {
        case single = "shortestPath", all = "allShortestPaths"
    }

    package var pathVariable: String?
    /// Set when the part is wrapped in `shortestPath` / `allShortestPaths`: then it has exactly two
    /// nodes and one variable-length relationship.
    package var shortest: Shortest? = nil
    package var nodes: [NodePattern]
    /// `relationships[i]` joins `nodes[i]` and `nodes[i + 1]`.
    package var relationships: [RelationshipPattern]
    package var range: SourceRange

    /// The variables the part names (not the anonymous ones the planner adds).
    package var namedVariables: [String] {
        nodes.compactMap(\.variable) + relationships.compactMap(\.variable) + [pathVariable].compactMap { $0 }
    }

    package var description: String {
        var text = nodes[0].description
        for (index, relationship) in relationships.enumerated() {
            text += relationship.description + nodes[index + 1].description
        }
        if let shortest { text = shortest.rawValue + "(" + text + ")" }
        return (pathVariable.map { $0 + " = " } ?? "") + text
    }
}

/// One item of a `RETURN` or `WITH`.
package struct ProjectionItem: Sendable {
    package var expression: Expression
    /// The explicit alias (`AS name`), if any.
    package var alias: String?
    /// The column name: the alias, or else the expression's verbatim text.
    package var name: String
}

/// One `ORDER BY` item.
package struct SortItem: Sendable {
    package var expression: Expression
    package var ascending: Bool
}

/// The body of a `RETURN` or `WITH`.
package struct Projection: Sendable {
    package var distinct: Bool
    /// `*`: every variable in scope, before the listed items.
    package var includesAll: Bool
    package var items: [ProjectionItem]
    package var orderBy: [SortItem]
    package var skip: Expression?
    package var limit: Expression?
    package var range: SourceRange
}

/// A clause of a single query.
package enum Clause: Sendable {
    case match(optional: Bool, pattern: [PatternPart], predicate: Expression?, range: SourceRange)
    case unwind(Expression, alias: String, range: SourceRange)
    case with(Projection, predicate: Expression?)
    case `return`(Projection)
    case call(
        procedure: String, arguments: [Expression]?, yields: [(name: String, alias: String)]?, yieldAll: Bool,
        predicate: Expression?, range: SourceRange)
    /// `CREATE` — produced only when the parser is explicitly allowed to (test fixtures); a user
    /// query never contains it.
    case create([PatternPart], range: SourceRange)
    /// `DELETE` / `DETACH DELETE` — fixtures only, like `create`.
    case delete([Expression], detach: Bool, range: SourceRange)
}

/// A parsed statement: one or more single queries joined by `UNION` / `UNION ALL`.
package struct Statement: Sendable, CustomStringConvertible {
    /// How the statement should be run.
    package enum Mode: String, Sendable {
        case run, explain = "EXPLAIN", profile = "PROFILE"
    }

    package var mode: Mode
    package var queries: [[Clause]]
    /// `unionAll[i]` tells whether `queries[i]` and `queries[i + 1]` are joined by `UNION ALL`.
    package var unionAll: [Bool]

    /// The printable form of the AST, one clause per line.
    package var description: String {
        var lines: [String] = []
        if mode != .run { lines.append(mode.rawValue) }
        for (index, clauses) in queries.enumerated() {
            if index > 0 { lines.append(unionAll[index - 1] ? "UNION ALL" : "UNION") }
            for clause in clauses { lines.append(Statement.describe(clause)) }
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ projection: Projection) -> String {
        var text = projection.distinct ? "DISTINCT " : ""
        var items = projection.includesAll ? ["*"] : []
        items += projection.items.map { item in
            item.alias.map { "\(item.expression) AS \($0)" } ?? item.expression.description
        }
        text += items.joined(separator: ", ")
        if !projection.orderBy.isEmpty {
            text +=
                " ORDER BY "
                + projection.orderBy.map { "\($0.expression)\($0.ascending ? "" : " DESC")" }
                .joined(separator: ", ")
        }
        if let skip = projection.skip { text += " SKIP \(skip)" }
        if let limit = projection.limit { text += " LIMIT \(limit)" }
        return text
    }

    package static func describe(_ clause: Clause) -> String {
        switch clause {
        case .match(let optional, let pattern, let predicate, _):
            return (optional ? "OPTIONAL MATCH " : "MATCH ") + pattern.map(\.description).joined(separator: ", ")
                + (predicate.map { " WHERE \($0)" } ?? "")
        case .unwind(let expression, let alias, _): return "UNWIND \(expression) AS \(alias)"
        case .with(let projection, let predicate):
            return "WITH " + describe(projection) + (predicate.map { " WHERE \($0)" } ?? "")
        case .return(let projection): return "RETURN " + describe(projection)
        case .call(let procedure, let arguments, let yields, let yieldAll, let predicate, _):
            var text = "CALL \(procedure)"
            if let arguments { text += "(" + arguments.map(\.description).joined(separator: ", ") + ")" }
            if yieldAll { text += " YIELD *" }
            if let yields {
                text +=
                    " YIELD "
                    + yields.map { $0.name == $0.alias ? $0.name : "\($0.name) AS \($0.alias)" }
                    .joined(separator: ", ")
            }
            if let predicate { text += " WHERE \(predicate)" }
            return text
        case .create(let pattern, _): return "CREATE " + pattern.map(\.description).joined(separator: ", ")
        case .delete(let targets, let detach, _):
            return (detach ? "DETACH DELETE " : "DELETE ") + targets.map(\.description).joined(separator: ", ")
        }
    }
}
