import EngramCore

/// Checks a parsed statement (the binder's job) and turns it into a logical plan.
///
/// Semantic errors are reported here, before anything runs: undefined variables, a variable used
/// as two kinds of value, misplaced or nested aggregates, unknown functions and wrong argument
/// counts, missing aliases, column conflicts, non-constant `SKIP`/`LIMIT`, unknown procedures.
package struct Planner {
    /// What a variable holds, as far as the binder knows.
    enum Kind: Equatable {
        /// `value` is known not to be a graph element; `scalar` is moreover not a map (a number,
        /// boolean, string or list literal); `unknown` may be anything.
        case node, relationship, relationshipList, path, value, scalar, unknown
    }

    typealias Scope = [String: Kind]

    let graph: any CypherGraph
    let procedures: ProcedureRegistry
    let limits: CypherLimits
    /// Plan `CREATE`/`DELETE` (test fixtures only; user queries never reach the planner with them).
    let allowWrites: Bool
    private var anonymousCount = 0

    package init(
        graph: any CypherGraph, procedures: ProcedureRegistry, limits: CypherLimits,
        allowWrites: Bool = false, anonymousStart: Int = 0
    ) {
        anonymousCount = anonymousStart
        self.graph = graph
        self.procedures = procedures
        self.limits = limits
        self.allowWrites = allowWrites
    }

    /// The plan of a statement and its result columns.
    package mutating func plan(_ statement: Statement) throws(CypherError) -> (PlanNode, [String]) {
        var plans: [PlanNode] = []
        var columns: [String]? = nil
        if statement.unionAll.count > 0 && Set(statement.unionAll).count > 1 {
            throw CypherError.semantic("UNION and UNION ALL cannot be mixed", "InvalidClauseComposition")
        }
        for clauses in statement.queries {
            let (plan, queryColumns) = try planSingleQuery(clauses, isUnionPart: statement.queries.count > 1)
            if let columns, columns != queryColumns {
                throw CypherError.semantic(
                    "all parts of a UNION must return the same columns: \(columns) vs \(queryColumns)",
                    "DifferentColumnsInUnion")
            }
            columns = queryColumns
            plans.append(plan)
        }
        if plans.count == 1 { return (plans[0], columns!) }
        return (PlanNode(.union(all: statement.unionAll.first!, columns: columns!), plans), columns!)
    }

    private mutating func anonymous(_ prefix: String) -> String {
        anonymousCount += 1
        return "  \(prefix)\(anonymousCount)"
    }

    // MARK: Single queries

    private mutating func planSingleQuery(_ clauses: [Clause], isUnionPart: Bool) throws(CypherError)
        -> (PlanNode, [String])
    {
        var plan = PlanNode(.start)
        var scope: Scope = [:]
        for (index, clause) in clauses.enumerated() {
            let isLast = index == clauses.count - 1
            switch clause {
            case .match(let optional, let pattern, let predicate, _):
                if optional {
                    let inner = try planMatch(PlanNode(.argument), pattern, predicate, &scope, optional: true)
                    plan = PlanNode(.optional(introduced: inner.1), [plan, inner.0])
                } else {
                    plan = try planMatch(plan, pattern, predicate, &scope, optional: false).0
                }
            case .unwind(let expression, let alias, _):
                try check(expression, scope, allowAggregates: false)
                if scope[alias] != nil {
                    throw CypherError.semantic(
                        "variable `\(alias)` is already defined", "VariableAlreadyBound",
                        at: expression.range)
                }
                plan = PlanNode(.unwind(expression, alias: alias), [plan])
                scope[alias] = .unknown
            case .with(let projection, let predicate):
                if isLast {
                    throw CypherError.semantic(
                        "a query cannot end with WITH", "InvalidClauseComposition",
                        at: projection.range)
                }
                let (projected, newScope, _) = try planProjection(
                    plan, projection, scope, isReturn: false,
                    predicate: predicate)
                plan = projected
                scope = newScope
            case .return(let projection):
                if !isLast {
                    throw CypherError.semantic(
                        "RETURN must be the last clause", "InvalidClauseComposition",
                        at: projection.range)
                }
                let (projected, _, columns) = try planProjection(plan, projection, scope, isReturn: true)
                return (projected, columns)
            case .call(let name, let arguments, let yields, let yieldAll, let predicate, let range):
                let (node, columns) = try planCall(
                    plan, name, arguments, yields, yieldAll, predicate, range, &scope,
                    standalone: clauses.count == 1)
                plan = node
                if clauses.count == 1 {
                    return (PlanNode(.select(columns), [plan]), columns)
                }
            case .create(let parts, let range):
                guard allowWrites else {
                    throw CypherError(
                        .readOnlyQuery, "CREATE is not allowed: Engram's Cypher is read-only",
                        detail: "CREATE", line: range.line, column: range.column)
                }
                var named = parts
                for partIndex in named.indices {
                    for nodeIndex in named[partIndex].nodes.indices
                    where named[partIndex].nodes[nodeIndex].variable == nil {
                        named[partIndex].nodes[nodeIndex].variable = anonymous("n")
                    }
                    for part in [named[partIndex]] {
                        for node in part.nodes { scope[node.variable!] = scope[node.variable!] ?? .node }
                        for relationship in part.relationships {
                            if let name = relationship.variable { scope[name] = .relationship }
                        }
                    }
                }
                plan = PlanNode(.create(named), [plan])
                if isLast { return (plan, []) }
            case .delete(let targets, let detach, let range):
                guard allowWrites else {
                    throw CypherError(
                        .readOnlyQuery, "DELETE is not allowed: Engram's Cypher is read-only",
                        detail: "DELETE", line: range.line, column: range.column)
                }
                plan = PlanNode(.delete(targets, detach: detach), [plan])
                if isLast { return (plan, []) }
            }
        }
        throw CypherError.semantic("a query must end with RETURN", "InvalidClauseComposition")
    }

    // MARK: Expressions

    /// Checks variables, functions and aggregate placement in an expression.
    private func check(_ expression: Expression, _ scope: Scope, allowAggregates: Bool, insideAggregate: Bool = false)
        throws(CypherError)
    {
        switch expression.kind {
        case .variable(let name):
            if scope[name] == nil {
                throw CypherError.semantic(
                    "variable `\(name)` is not defined", "UndefinedVariable", at: expression.range)
            }
        case .function(let name, _, let arguments):
            let lower = name.lowercased()
            guard let arity = FunctionLibrary.arities[lower] else {
                throw CypherError.semantic("unknown function \(name)()", "UnknownFunction", at: expression.range)
            }
            if !arity.contains(arguments.count) {
                throw CypherError.semantic(
                    "\(name)() takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)") argument(s), got \(arguments.count)",
                    "InvalidNumberOfArguments", at: expression.range)
            }
            if expression.isAggregate {
                if !allowAggregates {
                    throw CypherError.semantic(
                        "aggregate \(name)() is not allowed here", "InvalidAggregation",
                        at: expression.range)
                }
                if insideAggregate {
                    throw CypherError.semantic(
                        "aggregate \(name)() cannot be nested in another aggregate",
                        "NestedAggregation", at: expression.range)
                }
            }
            try checkArgumentTypes(lower, arguments, scope)
            for argument in arguments {
                try check(
                    argument, scope, allowAggregates: allowAggregates,
                    insideAggregate: insideAggregate || expression.isAggregate)
            }
            return
        case .countStar:
            if !allowAggregates {
                throw CypherError.semantic("count(*) is not allowed here", "InvalidAggregation", at: expression.range)
            }
            if insideAggregate {
                throw CypherError.semantic(
                    "count(*) cannot be nested in another aggregate", "NestedAggregation",
                    at: expression.range)
            }
        case .patternPredicate(let part):
            for name in part.namedVariables where scope[name] == nil {
                throw CypherError.semantic(
                    "variable `\(name)` in a pattern predicate must be bound before it", "UndefinedVariable",
                    at: part.range)
            }
            for properties in part.nodes.compactMap(\.properties) + part.relationships.compactMap(\.properties) {
                try check(properties, scope, allowAggregates: false)
            }
            return
        case .existsSubquery(let parts, let predicate):
            var inner = scope
            for name in parts.flatMap(\.namedVariables) where inner[name] == nil { inner[name] = .unknown }
            for properties in parts.flatMap({
                $0.nodes.compactMap(\.properties) + $0.relationships.compactMap(\.properties)
            }) {
                try check(properties, inner, allowAggregates: false)
            }
            if let predicate { try check(predicate, inner, allowAggregates: false) }
            return
        case .listComprehension(let variable, let list, let predicate, let projection):
            try check(list, scope, allowAggregates: allowAggregates, insideAggregate: insideAggregate)
            var inner = scope
            inner[variable] = .unknown
            for expression in [predicate, projection].compactMap({ $0 }) {
                try check(expression, inner, allowAggregates: false)
            }
            return
        case .quantifier(_, let variable, let list, let predicate):
            try check(list, scope, allowAggregates: allowAggregates, insideAggregate: insideAggregate)
            var inner = scope
            inner[variable] = .unknown
            try check(predicate, inner, allowAggregates: false)
            return
        case .binary(let op, let lhs, let rhs) where op == .and || op == .or || op == .xor:
            for operand in [lhs, rhs] where !Self.mayBeBoolean(operand) {
                throw CypherError.semantic(
                    "\(op.rawValue) expects booleans, got \(operand)", "InvalidArgumentType",
                    at: operand.range)
            }
        case .unary(.not, let operand):
            if !Self.mayBeBoolean(operand) {
                throw CypherError.semantic(
                    "NOT expects a boolean, got \(operand)", "InvalidArgumentType",
                    at: operand.range)
            }
        case .binary(.in, _, let rhs):
            if case .literal(let value) = rhs.kind {
                switch value {
                case .null, .list: break
                default:
                    throw CypherError.semantic(
                        "IN expects a list on its right, got \(rhs)", "InvalidArgumentType",
                        at: rhs.range)
                }
            }
        case .property(let base, _):
            let literalBase: Bool = {
                switch base.kind {
                case .literal(let value): return !value.isNull
                case .list: return true
                default: return false
                }
            }()
            let kind = staticKind(base, scope)
            if kind == .path || kind == .relationshipList || kind == .scalar || literalBase {
                throw CypherError.semantic(
                    "cannot read a property of \(base), which is not a map or graph element",
                    "InvalidArgumentType", at: expression.range)
            }
        case .index(_, let index):
            if case .literal(let value) = index.kind, case .bool = value {
                throw CypherError.semantic(
                    "a subscript must be an integer or a string", "InvalidArgumentType",
                    at: index.range)
            }
            if case .literal(let value) = index.kind, case .double = value {
                throw CypherError.semantic(
                    "a subscript must be an integer or a string", "InvalidArgumentType",
                    at: index.range)
            }
        default:
            break
        }
        for child in expression.children {
            try check(child, scope, allowAggregates: allowAggregates, insideAggregate: insideAggregate)
        }
    }

    /// Compile-time type checks of function arguments whose kind the binder knows.
    private func checkArgumentTypes(_ name: String, _ arguments: [Expression], _ scope: Scope) throws(CypherError) {
        guard let first = arguments.first else { return }
        let kind = staticKind(first, scope)
        let literal: PropertyValue? = if case .literal(let value) = first.kind { value } else { nil }
        func fail() -> CypherError {
            CypherError.semantic(
                "\(name)() cannot take this argument: \(first)", "InvalidArgumentType", at: first.range)
        }
        switch name {
        case "labels":
            if kind == .relationship || kind == .path || kind == .relationshipList { throw fail() }
            if let literal, !literal.isNull { throw fail() }
        case "type":
            if kind == .node || kind == .path || kind == .relationshipList { throw fail() }
            if let literal, !literal.isNull { throw fail() }
        case "length", "nodes", "relationships":
            if kind == .node || kind == .relationship || kind == .relationshipList { throw fail() }
            if let literal, !literal.isNull { throw fail() }
        case "size":
            if kind == .path || kind == .node || kind == .relationship { throw fail() }
            if let literal {
                switch literal {
                case .null, .string, .list: break
                default: throw fail()
                }
            }
        case "tointeger", "tostring", "tofloat", "toboolean":
            if kind == .node || kind == .relationship || kind == .path || kind == .relationshipList { throw fail() }
            if case .list = first.kind { throw fail() }
            if case .map = first.kind { throw fail() }
        case "properties", "keys":
            if kind == .path || kind == .relationshipList { throw fail() }
            if let literal, !literal.isNull { throw fail() }
            if case .list = first.kind { throw fail() }
        default:
            break
        }
    }

    /// Whether an expression could evaluate to a boolean or null (false only for literals of
    /// other types).
    private static func mayBeBoolean(_ expression: Expression) -> Bool {
        switch expression.kind {
        case .literal(let value):
            switch value {
            case .bool, .null: return true
            default: return false
            }
        case .list, .map: return false
        case .binary(let op, _, _):
            switch op {
            case .add, .subtract, .multiply, .divide, .modulo, .power: return false
            default: return true
            }
        default: return true
        }
    }

    /// A `WHERE` must be able to produce a boolean.
    private func checkPredicate(_ predicate: Expression, _ scope: Scope) throws(CypherError) {
        if let kind = staticKind(predicate, scope), [.node, .relationship, .relationshipList, .path].contains(kind) {
            throw CypherError.semantic(
                "WHERE expects a boolean, but \(predicate) is a \(kind)", "InvalidArgumentType",
                at: predicate.range)
        }
        if !Self.mayBeBoolean(predicate) {
            throw CypherError.semantic(
                "WHERE expects a boolean, got \(predicate)", "InvalidArgumentType",
                at: predicate.range)
        }
    }

    private func staticKind(_ expression: Expression, _ scope: Scope) -> Kind? {
        if case .variable(let name) = expression.kind { return scope[name] }
        return nil
    }

    // MARK: MATCH

    /// The plan that finds one match of a pattern predicate, starting from an `Argument` row in
    /// which the pattern's named variables are bound.
    mutating func planPatternPredicate(_ part: PatternPart) throws(CypherError) -> PlanNode {
        try planExistence([part], nil, bound: part.namedVariables)
    }

    /// The plan that finds one match of `parts` (and `predicate`), starting from an `Argument` row
    /// in which the `bound` variables are set.
    mutating func planExistence(_ parts: [PatternPart], _ predicate: Expression?, bound: [String])
        throws(CypherError) -> PlanNode
    {
        var scope: Scope = [:]
        for name in bound { scope[name] = .unknown }
        let plan = try planMatch(PlanNode(.argument), parts, predicate, &scope, optional: false).0
        return PlanNode(.limit(Expression(.literal(.int(1)), parts[0].range)), [plan])
    }

    private struct PendingPredicate {
        var expression: Expression
        var variables: Set<String>
        var applied = false
    }

    /// Splits a predicate into its `AND`ed conjuncts.
    private static func conjuncts(_ expression: Expression) -> [Expression] {
        if case .binary(.and, let lhs, let rhs) = expression.kind { return conjuncts(lhs) + conjuncts(rhs) }
        return [expression]
    }

    private mutating func planMatch(
        _ input: PlanNode, _ pattern: [PatternPart], _ predicate: Expression?, _ scope: inout Scope, optional: Bool
    ) throws(CypherError) -> (PlanNode, [String]) {
        let outerScope = scope
        var parts = pattern
        var introduced: [String] = []
        var pending: [PendingPredicate] = []
        var clauseRelationships: [String: SourceRange] = [:]

        func declare(_ name: String, _ kind: Kind, _ range: SourceRange, scope: inout Scope) throws(CypherError) {
            if let existing = scope[name] {
                if existing == .unknown { return }
                if existing != kind {
                    throw CypherError.semantic(
                        "variable `\(name)` is already a \(existing), not a \(kind)",
                        "VariableTypeConflict", at: range)
                }
                if kind == .path {
                    throw CypherError.semantic(
                        "path variable `\(name)` is already defined", "VariableAlreadyBound",
                        at: range)
                }
            } else {
                scope[name] = kind
                introduced.append(name)
            }
        }

        // Name every element, declare variables, and turn inline properties and labels into predicates.
        for partIndex in parts.indices {
            for nodeIndex in parts[partIndex].nodes.indices {
                var node = parts[partIndex].nodes[nodeIndex]
                if node.variable == nil { node.variable = anonymous("n") }
                let name = node.variable!
                try declare(name, .node, node.range, scope: &scope)
                if let properties = node.properties, case .map(let entries) = properties.kind {
                    for (key, value) in entries {
                        let lhs = Expression(.property(Expression(.variable(name), node.range), key), node.range)
                        pending.append(
                            PendingPredicate(
                                expression: Expression(.binary(.equal, lhs, value), node.range),
                                variables: value.variables.union([name])))
                    }
                }
                parts[partIndex].nodes[nodeIndex] = node
            }
            for relationshipIndex in parts[partIndex].relationships.indices {
                var relationship = parts[partIndex].relationships[relationshipIndex]
                if relationship.variable == nil { relationship.variable = anonymous("r") }
                let name = relationship.variable!
                let kind: Kind = relationship.length == nil ? .relationship : .relationshipList
                if clauseRelationships[name] != nil {
                    throw CypherError.semantic(
                        "relationship variable `\(name)` is used twice in one pattern",
                        "RelationshipUniquenessViolation", at: relationship.range)
                }
                clauseRelationships[name] = relationship.range
                if kind == .relationshipList, outerScope[name] != nil {
                    throw CypherError.semantic(
                        "variable `\(name)` is already defined", "VariableAlreadyBound",
                        at: relationship.range)
                }
                try declare(name, kind, relationship.range, scope: &scope)
                if let length = relationship.length {
                    let maximum = length.max ?? limits.maxVariableLengthDepth
                    if maximum > limits.maxVariableLengthDepth {
                        throw CypherError(
                            .depthLimitExceeded,
                            "variable-length pattern asks for \(maximum) hops; the limit is \(limits.maxVariableLengthDepth)",
                            detail: "DepthLimit", line: relationship.range.line, column: relationship.range.column)
                    }
                }
                parts[partIndex].relationships[relationshipIndex] = relationship
            }
            if let path = parts[partIndex].pathVariable {
                try declare(path, .path, parts[partIndex].range, scope: &scope)
            }
        }
        for part in parts {
            for node in part.nodes {
                if let properties = node.properties { try check(properties, scope, allowAggregates: false) }
            }
            for relationship in part.relationships {
                if let properties = relationship.properties { try check(properties, scope, allowAggregates: false) }
            }
        }
        if let predicate {
            try check(predicate, scope, allowAggregates: false)
            try checkPredicate(predicate, scope)
            for conjunct in Self.conjuncts(predicate) {
                pending.append(PendingPredicate(expression: conjunct, variables: conjunct.variables))
            }
        }

        var bound = Set(outerScope.keys)
        var plan = input
        var usedRelationships: [PlanNode.Excluded] = []

        func applyFilters(_ plan: inout PlanNode) {
            for index in pending.indices where !pending[index].applied && pending[index].variables.isSubset(of: bound) {
                pending[index].applied = true
                plan = PlanNode(.filter(pending[index].expression), [plan])
            }
        }
        applyFilters(&plan)

        // Parts connected to already-bound variables first, then the rest in order.
        var remaining = Array(parts.indices)
        while !remaining.isEmpty {
            let pick =
                remaining.firstIndex { index in
                    parts[index].nodes.contains { bound.contains($0.variable!) }
                } ?? 0
            let part = parts[remaining.remove(at: pick)]
            if part.shortest != nil {
                // Bind both ends (seek or scan), then search between them.
                for node in part.nodes {
                    if !bound.contains(node.variable!) {
                        plan = try accessPath(
                            for: node, plan, bound: bound, outer: Set(outerScope.keys), pending: pending)
                        bound.insert(node.variable!)
                    }
                    plan = labelFilter(node, plan, boundEarlier: outerScope[node.variable!] != nil)
                    applyFilters(&plan)
                }
                let relationship = part.relationships[0]
                let direction: ExpandDirection =
                    relationship.direction == .outgoing
                    ? .outgoing : relationship.direction == .incoming ? .incoming : .both
                plan = PlanNode(
                    .shortestPath(
                        from: part.nodes[0].variable!, relationship: relationship.variable!,
                        to: part.nodes[1].variable!, direction: direction, types: relationship.types,
                        min: relationship.length?.min ?? 1,
                        max: relationship.length?.max ?? limits.maxVariableLengthDepth,
                        all: part.shortest == .all, path: part.pathVariable, properties: relationship.properties),
                    [plan])
                bound.insert(relationship.variable!)
                if let path = part.pathVariable { bound.insert(path) }
                applyFilters(&plan)
                continue
            }
            let startIndex = try chooseStart(part, bound: bound, outer: Set(outerScope.keys), pending: pending)
            let startNode = part.nodes[startIndex]
            let startName = startNode.variable!
            if !bound.contains(startName) {
                plan = try accessPath(for: startNode, plan, bound: bound, outer: Set(outerScope.keys), pending: pending)
                bound.insert(startName)
            }
            let boundEarlier = outerScope[startName] != nil
            plan = labelFilter(startNode, plan, boundEarlier: boundEarlier)
            if boundEarlier && part.relationships.isEmpty && startNode.labels.isEmpty {
                // `MATCH (n)` over a null `n` (from OPTIONAL MATCH) matches nothing.
                let variable = Expression(.variable(startName), startNode.range)
                plan = PlanNode(.filter(Expression(.isNull(variable, negated: true), startNode.range)), [plan])
            }
            applyFilters(&plan)

            func expand(_ relationship: RelationshipPattern, from: String, to target: NodePattern, reverse: Bool)
                throws(CypherError)
            {
                let name = relationship.variable!
                let targetName = target.variable!
                var direction: ExpandDirection =
                    relationship.direction == .outgoing
                    ? .outgoing : relationship.direction == .incoming ? .incoming : .both
                if reverse && direction != .both { direction = direction == .outgoing ? .incoming : .outgoing }
                let toBound = bound.contains(targetName)
                if let length = relationship.length {
                    plan = PlanNode(
                        .varExpand(
                            from: from, relationship: name, to: targetName, direction: direction,
                            types: relationship.types, min: length.min ?? 1,
                            max: length.max ?? limits.maxVariableLengthDepth, toBound: toBound,
                            properties: relationship.properties, excluded: usedRelationships, reversed: reverse), [plan]
                    )
                    usedRelationships.append(PlanNode.Excluded(name: name, isList: true))
                } else {
                    plan = PlanNode(
                        .expand(
                            from: from, relationship: name, to: targetName, direction: direction,
                            types: relationship.types, toBound: toBound, relationshipBound: bound.contains(name),
                            properties: relationship.properties, excluded: usedRelationships), [plan],
                        estimatedRows: estimateExpansion(from: plan, relationship, toBound: toBound))
                    usedRelationships.append(PlanNode.Excluded(name: name, isList: false))
                }
                bound.insert(name)
                bound.insert(targetName)
                plan = labelFilter(target, plan)
                applyFilters(&plan)
            }
            if startIndex < part.relationships.count {
                for index in startIndex..<part.relationships.count {
                    try expand(
                        part.relationships[index], from: part.nodes[index].variable!, to: part.nodes[index + 1],
                        reverse: false)
                }
            }
            for index in stride(from: startIndex - 1, through: 0, by: -1) {
                try expand(
                    part.relationships[index], from: part.nodes[index + 1].variable!, to: part.nodes[index],
                    reverse: true)
            }
            if let path = part.pathVariable {
                plan = PlanNode(
                    .buildPath(
                        variable: path, nodes: part.nodes.map { $0.variable! },
                        relationships: part.relationships.map { ($0.variable!, $0.length != nil) }), [plan])
                bound.insert(path)
                applyFilters(&plan)
            }
        }
        for predicate in pending where !predicate.applied {
            plan = PlanNode(.filter(predicate.expression), [plan])
        }
        return (plan, introduced)
    }

    /// Rows after one hop: the input's estimate times the average degree of the types (from
    /// `relationshipCount(type:)`), or over the node count when the far end is already bound.
    private func estimateExpansion(from input: PlanNode, _ relationship: RelationshipPattern, toBound: Bool)
        -> Double?
    {
        guard let rows = Self.estimate(input), let nodes = try? graph.nodeCount(label: nil), nodes > 0 else {
            return nil
        }
        let types: [String?] = relationship.types.isEmpty ? [nil] : relationship.types
        var relationships = 0
        for type in types { relationships += (try? graph.relationshipCount(type: type)) ?? 0 }
        var degree = Double(relationships) / Double(nodes)
        if relationship.direction == .both { degree *= 2 }
        return rows * degree / (toBound ? Double(nodes) : 1)
    }

    /// The nearest estimate at or below a plan node (filters keep their input's estimate).
    private static func estimate(_ node: PlanNode) -> Double? {
        if let rows = node.estimatedRows { return rows }
        if case .start = node.op { return 1 }
        if case .argument = node.op { return 1 }
        return node.children.first.flatMap(estimate)
    }

    /// The label check of a node just bound. A label that every node carries is not checked (the
    /// counts are exact within a snapshot) unless the node comes from an earlier clause, where it
    /// may be null.
    private func labelFilter(_ node: NodePattern, _ plan: PlanNode, boundEarlier: Bool = false) -> PlanNode {
        guard !node.labels.isEmpty else { return plan }
        var labels = node.labels
        if !boundEarlier, let total = try? graph.nodeCount(label: nil), total > 0 {
            labels.removeAll { (try? graph.nodeCount(label: $0)) == total }
        }
        // A label scan already guarantees its label.
        if case .labelScan(let variable, let label) = plan.op, variable == node.variable {
            labels.removeAll { $0 == label }
        }
        if case .indexSeek(let variable, let label, _, _) = plan.op, variable == node.variable {
            labels.removeAll { $0 == label }
        }
        if case .indexSeekAny(let variable, let label, _, _) = plan.op, variable == node.variable {
            labels.removeAll { $0 == label }
        }
        guard !labels.isEmpty else { return plan }
        let variable = Expression(.variable(node.variable!), node.range)
        return PlanNode(.filter(Expression(.hasLabels(variable, labels), node.range)), [plan])
    }

    /// An access that can find the node alone: id, public id, or index equality/range.
    private enum Seek {
        case id(Expression), publicID(Expression), index(label: String, property: String, value: Expression)
        case ids(Expression), indexAny(label: String, property: String, values: Expression)
        case range(label: String, property: String, lower: (Expression, Bool)?, upper: (Expression, Bool)?)
        case label(String), all
    }

    private func seek(for node: NodePattern, bound: Set<String>, pending: [PendingPredicate]) -> (Seek, Double) {
        let name = node.variable!
        func isConstant(_ expression: Expression) -> Bool { expression.variables.isSubset(of: bound) }
        var best: (Seek, Double) = (.all, Double((try? graph.nodeCount(label: nil)) ?? 1000))
        for label in node.labels {
            let count = Double((try? graph.nodeCount(label: label)) ?? 1000)
            if count < best.1 || { if case .all = best.0 { return true } else { return false } }() {
                best = (.label(label), count)
            }
        }
        var lowers: [String: (Expression, Bool)] = [:]
        var uppers: [String: (Expression, Bool)] = [:]
        for predicate in pending {
            guard case .binary(let op, let lhs, let rhs) = predicate.expression.kind else { continue }
            if op == .in {
                // `subject IN list`: one lookup per element.
                guard isConstant(rhs), !rhs.variables.contains(name) else { continue }
                var size = 10.0
                if case .list(let items) = rhs.kind { size = Double(max(items.count, 1)) }
                if case .function(let function, _, let arguments) = lhs.kind, function.lowercased() == "id",
                    arguments.count == 1, case .variable(name) = arguments[0].kind, size < best.1
                {
                    best = (.ids(rhs), size)
                }
                if case .property(let base, let key) = lhs.kind, case .variable(name) = base.kind {
                    for label in node.labels where graph.isIndexed(label: label, property: key) {
                        let estimate = max(1, Double((try? graph.nodeCount(label: label)) ?? 1000) / 100) * size
                        if estimate < best.1 { best = (.indexAny(label: label, property: key, values: rhs), estimate) }
                    }
                }
                continue
            }
            // Normalise to `subject op value`.
            var subject = lhs
            var value = rhs
            var normalised = op
            if !isConstant(rhs) || rhs.variables.contains(name) {
                subject = rhs
                value = lhs
                switch op {
                case .less: normalised = .greater
                case .greater: normalised = .less
                case .lessOrEqual: normalised = .greaterOrEqual
                case .greaterOrEqual: normalised = .lessOrEqual
                default: break
                }
            }
            guard isConstant(value), !value.variables.contains(name) else { continue }
            if case .function(let function, _, let arguments) = subject.kind, normalised == .equal,
                arguments.count == 1, case .variable(name) = arguments[0].kind
            {
                switch function.lowercased() {
                case "id": return (.id(value), 1)
                case "elementid": return (.publicID(value), 1)
                default: break
                }
            }
            guard case .property(let base, let key) = subject.kind, case .variable(name) = base.kind else { continue }
            for label in node.labels where graph.isIndexed(label: label, property: key) {
                let count = Double((try? graph.nodeCount(label: label)) ?? 1000)
                switch normalised {
                case .equal:
                    let estimate = max(1, count / 100)
                    if estimate < best.1 { best = (.index(label: label, property: key, value: value), estimate) }
                case .less, .lessOrEqual:
                    uppers[label + "\u{0}" + key] = (value, normalised == .lessOrEqual)
                case .greater, .greaterOrEqual:
                    lowers[label + "\u{0}" + key] = (value, normalised == .greaterOrEqual)
                default: break
                }
            }
        }
        for key in Set(lowers.keys).union(uppers.keys) {
            let pieces = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            let count = Double((try? graph.nodeCount(label: pieces[0])) ?? 1000)
            let estimate = max(1, count / (lowers[key] != nil && uppers[key] != nil ? 10 : 3))
            if estimate < best.1 {
                best = (.range(label: pieces[0], property: pieces[1], lower: lowers[key], upper: uppers[key]), estimate)
            }
        }
        return best
    }

    private func chooseStart(_ part: PatternPart, bound: Set<String>, outer: Set<String>, pending: [PendingPredicate])
        throws(CypherError) -> Int
    {
        if let index = part.nodes.firstIndex(where: { bound.contains($0.variable!) }) { return index }
        var bestIndex = 0
        var bestCost = Double.infinity
        for (index, node) in part.nodes.enumerated() {
            let cost = seek(for: node, bound: bound, pending: pending).1
            if cost < bestCost {
                bestCost = cost
                bestIndex = index
            }
        }
        return bestIndex
    }

    private func accessPath(
        for node: NodePattern, _ input: PlanNode, bound: Set<String>, outer: Set<String>,
        pending: [PendingPredicate]
    ) throws(CypherError) -> PlanNode {
        let name = node.variable!
        let (access, estimate) = seek(for: node, bound: bound, pending: pending)
        let op: PlanNode.Operator
        switch access {
        case .id(let value): op = .nodeByID(variable: name, id: value)
        case .ids(let values): op = .nodeByIDs(variable: name, ids: values)
        case .indexAny(let label, let property, let values):
            op = .indexSeekAny(variable: name, label: label, property: property, values: values)
        case .publicID(let value): op = .nodeByPublicID(variable: name, id: value)
        case .index(let label, let property, let value):
            op = .indexSeek(variable: name, label: label, property: property, value: value)
        case .range(let label, let property, let lower, let upper):
            op = .indexRange(variable: name, label: label, property: property, lower: lower, upper: upper)
        case .label(let label): op = .labelScan(variable: name, label: label)
        case .all: op = .allNodesScan(variable: name)
        }
        return PlanNode(op, [input], estimatedRows: estimate)
    }

    // MARK: Projections

    private func kind(of expression: Expression, _ scope: Scope) -> Kind {
        switch expression.kind {
        case .variable(let name): return scope[name] ?? .unknown
        case .literal(let value): return value.isNull ? .unknown : .scalar
        case .list: return .scalar
        case .map, .binary, .unary, .isNull, .hasLabels, .countStar: return .value
        default: return .unknown
        }
    }

    private mutating func planProjection(
        _ input: PlanNode, _ projection: Projection, _ scope: Scope, isReturn: Bool,
        predicate: Expression? = nil
    ) throws(CypherError) -> (PlanNode, Scope, [String]) {
        var items: [ProjectionItem] = []
        if projection.includesAll {
            let visible = scope.keys.filter { !$0.hasPrefix("  ") }.sorted()
            if visible.isEmpty {
                throw CypherError.semantic(
                    "\(isReturn ? "RETURN" : "WITH") * has no variables in scope",
                    "NoVariablesInScope", at: projection.range)
            }
            for name in visible {
                items.append(
                    ProjectionItem(
                        expression: Expression(.variable(name), projection.range), alias: name,
                        name: name))
            }
        }
        for item in projection.items {
            var item = item
            if item.alias == nil {
                if case .variable(let name) = item.expression.kind {
                    item.name = name
                } else if !isReturn {
                    throw CypherError.semantic(
                        "expression in WITH must be aliased (use AS): \(item.name)",
                        "NoExpressionAlias", at: item.expression.range)
                }
            }
            items.append(item)
        }
        var seenNames: Set<String> = []
        for item in items where !seenNames.insert(item.name).inserted {
            throw CypherError.semantic(
                "column `\(item.name)` is defined more than once", "ColumnNameConflict",
                at: item.expression.range)
        }
        for item in items { try check(item.expression, scope, allowAggregates: true) }

        var newScope: Scope = [:]
        for item in items { newScope[item.name] = kind(of: item.expression, scope) }
        let columns = items.map(\.name)
        let aggregating = items.contains { $0.expression.containsAggregate }

        // ORDER BY may use projected expressions verbatim: replace them by their column.
        let itemTexts = Dictionary(items.map { ($0.expression.description, $0.name) }, uniquingKeysWith: { a, _ in a })
        // Inside an ORDER BY item that aggregates, only aggregates and simple (variable or property)
        // items can be reused, as in the projection itself.
        let simpleTexts = Dictionary(
            items.filter { item in
                if item.expression.isAggregate { return true }
                switch item.expression.kind {
                case .variable: return true
                case .property(let base, _): if case .variable = base.kind { return true } else { return false }
                default: return false
                }
            }.map { ($0.expression.description, $0.name) }, uniquingKeysWith: { a, _ in a })
        func reuseProjected(_ original: Expression) -> Expression {
            let texts = aggregating && original.containsAggregate ? simpleTexts : itemTexts
            return original.rewritten { expression in
                if case .variable = expression.kind { return nil }
                if let name = texts[expression.description] { return Expression(.variable(name), expression.range) }
                return nil
            }
        }
        var sortItems: [SortItem] = []
        for sortItem in projection.orderBy {
            let rewritten = reuseProjected(sortItem.expression)
            if aggregating && sortItem.expression.containsAggregate {
                for variable in rewritten.variables where newScope[variable] == nil {
                    throw CypherError.semantic(
                        "`\(variable)` in ORDER BY is neither aggregated nor a projected grouping key",
                        "AmbiguousAggregationExpression", at: sortItem.expression.range)
                }
            }
            sortItems.append(SortItem(expression: rewritten, ascending: sortItem.ascending))
        }
        let predicate = predicate.map(reuseProjected)
        var sortScope = newScope
        if !aggregating && !projection.distinct {
            for (name, kind) in scope where sortScope[name] == nil { sortScope[name] = kind }
        }
        for sortItem in sortItems {
            if aggregating || projection.distinct {
                if sortItem.expression.containsAggregate {
                    throw CypherError.semantic(
                        "aggregate in ORDER BY must also be projected", "InvalidAggregation",
                        at: sortItem.expression.range)
                }
                for variable in sortItem.expression.variables where newScope[variable] == nil {
                    throw CypherError.semantic(
                        "variable `\(variable)` is not projected, so ORDER BY cannot use it after "
                            + (aggregating ? "aggregation" : "DISTINCT"),
                        aggregating ? "UndefinedVariable" : "UndefinedVariable", at: sortItem.expression.range)
                }
            }
            try check(sortItem.expression, sortScope, allowAggregates: false)
        }
        for count in [projection.skip, projection.limit].compactMap({ $0 }) {
            try checkRowCount(count)
        }
        if let predicate {
            try check(predicate, aggregating || projection.distinct ? newScope : sortScope, allowAggregates: false)
            try checkPredicate(predicate, sortScope)
        }

        var plan = input
        let needsInput = sortItems.map(\.expression) + (predicate.map { [$0] } ?? [])
        let keepInput =
            !aggregating && !projection.distinct
            && needsInput.contains { !$0.variables.isSubset(of: Set(columns)) }
        if aggregating {
            plan = try planAggregation(plan, items, scope)
        } else {
            plan = PlanNode(.project(items.map { ($0.name, $0.expression) }, keepInput: keepInput), [plan])
        }
        if projection.distinct { plan = PlanNode(.distinct(columns: columns), [plan]) }
        if !sortItems.isEmpty {
            var top: Expression? = nil
            if let limit = projection.limit {
                top =
                    projection.skip.map { skip in
                        Expression(.binary(.add, skip, limit), limit.range)
                    } ?? limit
            }
            plan = PlanNode(.sort(sortItems, limit: top), [plan])
        }
        if let skip = projection.skip { plan = PlanNode(.skip(skip), [plan]) }
        if let limit = projection.limit { plan = PlanNode(.limit(limit), [plan]) }
        if let predicate { plan = PlanNode(.filter(predicate), [plan]) }
        if keepInput || isReturn { plan = PlanNode(.select(columns), [plan]) }
        return (plan, newScope, columns)
    }

    private func checkRowCount(_ expression: Expression) throws(CypherError) {
        if !expression.variables.isEmpty {
            throw CypherError.semantic(
                "SKIP and LIMIT must be constant expressions", "NonConstantExpression",
                at: expression.range)
        }
        if case .literal(let value) = expression.kind {
            switch value {
            case .int(let count) where count < 0:
                throw CypherError.semantic(
                    "SKIP and LIMIT must not be negative: \(count)", "NegativeIntegerArgument",
                    at: expression.range)
            case .int: break
            default:
                throw CypherError.semantic(
                    "SKIP and LIMIT must be integers: \(expression)", "InvalidArgumentType",
                    at: expression.range)
            }
        }
        if case .unary(.minus, let operand) = expression.kind, case .literal(.int) = operand.kind {
            throw CypherError.semantic(
                "SKIP and LIMIT must not be negative", "NegativeIntegerArgument",
                at: expression.range)
        }
        if expression.containsAggregate {
            throw CypherError.semantic("SKIP and LIMIT cannot aggregate", "NonConstantExpression", at: expression.range)
        }
    }

    private func planAggregation(_ input: PlanNode, _ items: [ProjectionItem], _ scope: Scope) throws(CypherError)
        -> PlanNode
    {
        var keys: [(String, Expression)] = []
        var aggregates: [Expression] = []
        var seen: Set<String> = []
        func collect(_ expression: Expression) {
            if expression.isAggregate {
                if seen.insert(expression.description).inserted { aggregates.append(expression) }
                return
            }
            for child in expression.children { collect(child) }
        }
        for item in items {
            if item.expression.containsAggregate {
                collect(item.expression)
            } else {
                keys.append(("  key " + item.name, item.expression))
            }
        }
        // Expressions around aggregates may only use grouping keys.
        // Only keys that are variables or property reads may be reused inside aggregate items.
        let reusable = keys.filter { key in
            switch key.1.kind {
            case .variable: return true
            case .property(let base, _): if case .variable = base.kind { return true } else { return false }
            default: return false
            }
        }
        let keyTexts = Dictionary(reusable.map { ($0.1.description, $0.0) }, uniquingKeysWith: { a, _ in a })
        var finals: [(String, Expression)] = []
        for item in items {
            if !item.expression.containsAggregate {
                finals.append((item.name, Expression(.variable("  key " + item.name), item.expression.range)))
                continue
            }
            let rewritten = item.expression.rewritten { expression in
                if expression.isAggregate {
                    return Expression(.variable(AggregateSlot.name(for: expression)), expression.range)
                }
                if let key = keyTexts[expression.description] { return Expression(.variable(key), expression.range) }
                return nil
            }
            for variable in rewritten.variables where !variable.hasPrefix("  ") {
                throw CypherError.semantic(
                    "`\(variable)` in \(item.name) is neither aggregated nor a grouping key",
                    "AmbiguousAggregationExpression", at: item.expression.range)
            }
            finals.append((item.name, rewritten))
        }
        // `MATCH (n[:L]) RETURN count(*)` is answered from the counts, without a scan.
        if keys.isEmpty, aggregates.count == 1, input.children.first.map({ $0.op.isStart }) == true {
            var scanned: (String, String?)? = nil
            switch input.op {
            case .labelScan(let variable, let label): scanned = (variable, label)
            case .allNodesScan(let variable): scanned = (variable, nil)
            default: break
            }
            let aggregate = aggregates[0]
            var countsRows = false
            switch aggregate.kind {
            case .countStar: countsRows = true
            case .function(let name, false, let arguments):
                if name.lowercased() == "count", case .variable(let counted) = arguments[0].kind {
                    countsRows = counted == scanned?.0
                }
            default: break
            }
            if let scanned, countsRows {
                let count = PlanNode(.nodeCount(label: scanned.1, aggregate: aggregate), [PlanNode(.start)])
                return PlanNode(.project(finals, keepInput: false), [count])
            }
        }
        let aggregation = PlanNode(.aggregate(keys: keys, aggregates: aggregates), [input])
        return PlanNode(.project(finals, keepInput: false), [aggregation])
    }

    // MARK: CALL

    private mutating func planCall(
        _ input: PlanNode, _ name: String, _ arguments: [Expression]?, _ yields: [(name: String, alias: String)]?,
        _ yieldAll: Bool, _ predicate: Expression?, _ range: SourceRange, _ scope: inout Scope, standalone: Bool
    ) throws(CypherError) -> (PlanNode, [String]) {
        guard let procedure = procedures.procedure(named: name) else {
            throw CypherError(
                .readOnlyQuery, "procedure \(name) is not a registered read-only procedure",
                detail: "UnknownProcedure", line: range.line, column: range.column, unexpected: name)
        }
        let arguments = arguments ?? []
        if arguments.count != procedure.parameters.count {
            throw CypherError.semantic(
                "procedure \(name) takes \(procedure.parameters.count) argument(s), got \(arguments.count)",
                "InvalidNumberOfArguments", at: range)
        }
        for argument in arguments { try check(argument, scope, allowAggregates: false) }
        var fields: [(field: String, alias: String)]
        if let yields {
            fields = []
            for (field, alias) in yields {
                guard procedure.outputs.contains(field) else {
                    throw CypherError.semantic(
                        "procedure \(name) has no output `\(field)`", "UndefinedVariable",
                        at: range)
                }
                if scope[alias] != nil {
                    throw CypherError.semantic(
                        "variable `\(alias)` is already defined", "VariableAlreadyBound",
                        at: range)
                }
                fields.append((field, alias))
            }
        } else if yieldAll || standalone {
            fields = procedure.outputs.map { ($0, $0) }
        } else {
            throw CypherError.semantic("CALL \(name) inside a query needs YIELD", "InvalidClauseComposition", at: range)
        }
        for field in fields { scope[field.alias] = procedure.nodeOutputs.contains(field.field) ? .node : .value }
        var plan = PlanNode(.call(procedure: procedure.name, arguments: arguments, yields: fields), [input])
        if let predicate {
            try check(predicate, scope, allowAggregates: false)
            plan = PlanNode(.filter(predicate), [plan])
        }
        return (plan, fields.map(\.alias))
    }
}
