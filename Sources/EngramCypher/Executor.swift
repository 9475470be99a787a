import EngramCore

/// Turns a logical plan into a tree of pull-based operators.
final class Executor {
    let context: ExecutionContext
    let profile: Bool
    var profiled: [ObjectIdentifier: ProfilingOperator] = [:]

    init(context: ExecutionContext, profile: Bool) {
        self.context = context
        self.profile = profile
        context.executor = self
    }

    private var graph: any CypherGraph { context.graph }

    private var layout: SlotLayout { context.layout }

    /// Gives a slot to every name the plan binds, so that rows have their final width before the
    /// first one is made.
    /// Hidden relationship variables that something reads (a path, a uniqueness check); the
    /// others need not be materialised by variable-length expansion.
    private var referencedHidden: Set<String> = []

    func register(_ node: PlanNode) {
        switch node.op {
        case .expand(_, _, _, _, _, _, _, _, let excluded), .varExpand(_, _, _, _, _, _, _, _, _, let excluded, _):
            for entry in excluded { referencedHidden.insert(entry.name) }
        case .buildPath(_, _, let relationships):
            for (name, _) in relationships { referencedHidden.insert(name) }
        default: break
        }
        func names(_ parts: [PatternPart]) -> [String] {
            parts.flatMap { part in
                part.nodes.compactMap(\.variable) + part.relationships.compactMap(\.variable)
                    + [part.pathVariable].compactMap { $0 }
            }
        }
        var bound: [String] = []
        switch node.op {
        case .allNodesScan(let variable), .labelScan(let variable, _), .nodeByID(let variable, _),
            .nodeByPublicID(let variable, _), .indexSeek(let variable, _, _, _), .indexRange(let variable, _, _, _, _),
            .nodeByIDs(let variable, _), .indexSeekAny(let variable, _, _, _):
            bound = [variable]
        case .expand(let from, let relationship, let to, _, _, _, _, _, _),
            .varExpand(let from, let relationship, let to, _, _, _, _, _, _, _, _):
            bound = [from, relationship, to]
        case .shortestPath(let from, let relationship, let to, _, _, _, _, _, let path, _):
            bound = [from, relationship, to] + [path].compactMap { $0 }
        case .optional(let introduced): bound = introduced
        case .project(let items, _): bound = items.map(\.0)
        case .aggregate(let keys, let aggregates):
            bound = keys.map(\.0) + aggregates.map { AggregateSlot.name(for: $0) }
        case .nodeCount(_, let aggregate): bound = [AggregateSlot.name(for: aggregate)]
        case .distinct(let columns), .select(let columns), .union(_, let columns): bound = columns
        case .unwind(_, let alias): bound = [alias]
        case .call(_, _, let yields): bound = yields.map(\.alias)
        case .buildPath(let variable, let nodes, let relationships): bound = [variable] + nodes + relationships.map(\.0)
        case .create(let parts): bound = names(parts)
        default: break
        }
        for name in bound { _ = layout.slot(name) }
        for child in node.children { register(child) }
    }

    func build(_ node: PlanNode, argument: Row? = nil) throws -> Operator {
        let built = try buildOperator(node, argument: argument)
        guard profile else { return built }
        let wrapper = ProfilingOperator(built, node)
        if profiled[ObjectIdentifier(node)] != nil {
            // An OPTIONAL inner plan is rebuilt per row: its runs are summed.
            profiledExtra[ObjectIdentifier(node), default: []].append(wrapper)
        } else {
            profiled[ObjectIdentifier(node)] = wrapper
        }
        return wrapper
    }

    var profiledExtra: [ObjectIdentifier: [ProfilingOperator]] = [:]

    func statistics(for node: PlanNode) -> (rows: Int, time: Duration) {
        let id = ObjectIdentifier(node)
        var rows = profiled[id]?.rows ?? 0
        var time = profiled[id]?.time ?? .zero
        for extra in profiledExtra[id] ?? [] {
            rows += extra.rows
            time += extra.time
        }
        return (rows, time)
    }

    private func count(_ expression: Expression, _ what: String) throws -> Int {
        let value = try context.evaluate(layout.resolve(expression), layout.emptyRow())
        switch value {
        case .int(let count) where count >= 0: return Int(min(count, Int64(Int.max / 2)))
        case .int:
            throw CypherError.argument("\(what) must not be negative, got \(value)", detail: "NegativeIntegerArgument")
        default:
            throw CypherError.argument("\(what) must be an integer, got \(value)", detail: "InvalidArgumentType")
        }
    }

    private func nodeIterator(_ iterator: any IteratorProtocol<NodeID>, _ row: Row, _ variable: Int)
        -> () throws -> Row?
    {
        var iterator = iterator
        // One buffer per input row: when the consumer has dropped the previous row (a filter
        // rejected it, an aggregate consumed it), the next one is written in place.
        var output = row
        return {
            guard let node = iterator.next() else { return nil }
            output[variable] = .node(node)
            return output
        }
    }

    private func buildOperator(_ node: PlanNode, argument: Row?) throws -> Operator {
        let context = self.context
        let graph = self.graph
        let layout = self.layout
        func slot(_ name: String) -> Int { layout.slot(name) }
        func resolve(_ expression: Expression) -> Expression { layout.resolve(expression) }
        func input() throws -> Operator { try build(node.children[0], argument: argument) }
        switch node.op {
        case .start: return SingleRowOperator(layout.emptyRow())
        case .argument: return SingleRowOperator(argument ?? layout.emptyRow(), isArgument: true)
        case .allNodesScan(let name):
            let variable = slot(name)
            return FlatMapOperator(try input(), context) { row in
                self.nodeIterator(try graph.nodes(label: nil), row, variable)
            }
        case .labelScan(let name, let label):
            let variable = slot(name)
            return FlatMapOperator(try input(), context) { row in
                self.nodeIterator(try graph.nodes(label: label), row, variable)
            }
        case .nodeByID(let name, let unresolved):
            let variable = slot(name)
            let id = resolve(unresolved)
            return FlatMapOperator(try input(), context) { row in
                guard case .int(let raw) = try context.evaluate(id, row) else { return nil }
                let candidate = NodeID(bitPattern: raw)
                guard try graph.nodeExists(candidate) else { return nil }
                return self.nodeIterator([candidate].makeIterator(), row, variable)
            }
        case .nodeByIDs(let name, let unresolved):
            let variable = slot(name)
            let ids = resolve(unresolved)
            return FlatMapOperator(try input(), context) { row in
                guard let items = try context.evaluate(ids, row).listElements else { return nil }
                var seen: Set<NodeID> = []
                var found: [NodeID] = []
                for case .int(let raw) in items {
                    let candidate = NodeID(bitPattern: raw)
                    if try graph.nodeExists(candidate), seen.insert(candidate).inserted { found.append(candidate) }
                }
                return self.nodeIterator(found.makeIterator(), row, variable)
            }
        case .indexSeekAny(let name, let label, let property, let unresolved):
            let variable = slot(name)
            let values = resolve(unresolved)
            return FlatMapOperator(try input(), context) { row in
                guard let items = try context.evaluate(values, row).listElements else { return nil }
                var seenKeys: Set<Value> = []
                var seen: Set<NodeID> = []
                var found: [NodeID] = []
                for item in items where !item.isNull && seenKeys.insert(item.groupingKey).inserted {
                    guard let key = item.propertyValue else { continue }
                    var iterator = try graph.nodes(label: label, property: property, equalTo: key)
                    while let node = iterator.next() {
                        if seen.insert(node).inserted { found.append(node) }
                    }
                }
                return self.nodeIterator(found.makeIterator(), row, variable)
            }
        case .nodeByPublicID(let name, let unresolved):
            let variable = slot(name)
            let id = resolve(unresolved)
            return FlatMapOperator(try input(), context) { row in
                guard case .string(let publicID) = try context.evaluate(id, row),
                    let found = try graph.node(publicID: publicID)
                else { return nil }
                return self.nodeIterator([found].makeIterator(), row, variable)
            }
        case .indexSeek(let name, let label, let property, let unresolved):
            let variable = slot(name)
            let value = resolve(unresolved)
            return FlatMapOperator(try input(), context) { row in
                guard let key = try context.evaluate(value, row).propertyValue, !key.isNull else { return nil }
                return self.nodeIterator(try graph.nodes(label: label, property: property, equalTo: key), row, variable)
            }
        case .indexRange(let name, let label, let property, let unresolvedLower, let unresolvedUpper):
            let variable = slot(name)
            let lower = unresolvedLower.map { (resolve($0.0), $0.1) }
            let upper = unresolvedUpper.map { (resolve($0.0), $0.1) }
            return FlatMapOperator(try input(), context) { row in
                func bound(_ side: (Expression, Bool)?) throws -> (PropertyBound?, Bool) {
                    guard let side else { return (nil, true) }
                    guard let value = try context.evaluate(side.0, row).propertyValue, !value.isNull else {
                        return (nil, false)
                    }
                    return (PropertyBound(value: value, inclusive: side.1), true)
                }
                let (low, lowOK) = try bound(lower)
                let (high, highOK) = try bound(upper)
                guard lowOK && highOK else { return nil }
                return self.nodeIterator(
                    try graph.nodes(label: label, property: property, from: low, to: high), row,
                    variable)
            }
        case .expand(
            let fromName, let relationshipName, let toName, let direction, let types, let toBound,
            let relationshipBound, let unresolvedProperties, let excludedNames):
            let (from, relationship, to) = (slot(fromName), slot(relationshipName), slot(toName))
            let properties = unresolvedProperties.map(resolve)
            let excluded = excludedNames.map { (slot($0.name), $0.isList) }
            return FlatMapOperator(try input(), context) { row in
                guard case .node(let source) = row[from] else { return nil }
                var target: NodeID? = nil
                if toBound {
                    guard case .node(let bound) = row[to] else { return nil }
                    target = bound
                }
                var boundRelationship: RelationshipID? = nil
                if relationshipBound {
                    guard case .relationship(let record) = row[relationship] else { return nil }
                    boundRelationship = record.id
                }
                let used = self.usedRelationships(row, excluded)
                let propertyMap = try properties.map { try context.evaluate($0, row) }
                var edges = try graph.relationships(of: source, direction: direction, types: types)
                var output = row
                return {
                    while let edge = edges.next() {
                        try context.tick()
                        if let boundRelationship, edge.id != boundRelationship { continue }
                        if used.contains(edge.id) { continue }
                        let other = edge.otherEnd(from: source)
                        if let target, other != target { continue }
                        if let propertyMap, !(try self.matches(edge, propertyMap)) { continue }
                        output[relationship] = .relationship(edge)
                        output[to] = .node(other)
                        return output
                    }
                    return nil
                }
            }
        case .varExpand(
            let fromName, let relationshipName, let toName, let direction, let types, let minimum,
            let maximum, let toBound, let unresolvedProperties, let excludedNames, let reversed):
            let (from, relationship, to) = (slot(fromName), slot(relationshipName), slot(toName))
            let properties = unresolvedProperties.map(resolve)
            let excluded = excludedNames.map { (slot($0.name), $0.isList) }
            let materialize = !relationshipName.hasPrefix("  ") || referencedHidden.contains(relationshipName)
            return FlatMapOperator(try input(), context) { row in
                guard case .node(let source) = row[from] else { return nil }
                var target: NodeID? = nil
                if toBound {
                    guard case .node(let bound) = row[to] else { return nil }
                    target = bound
                }
                let used = self.usedRelationships(row, excluded)
                let propertyMap = try properties.map { try context.evaluate($0, row) }
                let search = VariableLengthSearch(
                    graph: graph, context: context, executor: self, source: source, direction: direction,
                    types: types, minimum: minimum, maximum: maximum, excluded: used, propertyMap: propertyMap)
                var output = row
                return {
                    while let (path, end) = try search.next() {
                        if let target, end != target { continue }
                        if materialize {
                            let list = path.map(Value.relationship)
                            output[relationship] = .list(reversed ? list.reversed() : list)
                        }
                        output[to] = .node(end)
                        return output
                    }
                    return nil
                }
            }
        case .shortestPath(
            let fromName, let relationshipName, let toName, let direction, let types, let minimum, let maximum,
            let all, let pathName, let unresolvedProperties):
            let (from, relationship, to) = (slot(fromName), slot(relationshipName), slot(toName))
            let path = pathName.map(slot)
            let properties = unresolvedProperties.map(resolve)
            return FlatMapOperator(try input(), context) { row in
                guard case .node(let source) = row[from], case .node(let target) = row[to] else { return nil }
                let propertyMap = try properties.map { try context.evaluate($0, row) }
                let found = try self.shortestPaths(
                    from: source, to: target, direction: direction, types: types, minimum: minimum, maximum: maximum,
                    all: all, propertyMap: propertyMap)
                var index = 0
                var output = row
                return {
                    guard index < found.count else { return nil }
                    defer { index += 1 }
                    output[relationship] = .list(found[index].relationships.map(Value.relationship))
                    if let path { output[path] = .path(found[index]) }
                    return output
                }
            }
        case .filter(let predicate):
            return FilterOperator(try input(), resolve(predicate), context)
        case .optional(let introduced):
            let innerPlan = node.children[1]
            return OptionalOperator(try input(), introduced: introduced.map(slot)) { row in
                try self.build(innerPlan, argument: row)
            }
        case .project(let unresolvedItems, let keepInput):
            let items = unresolvedItems.map { (slot($0.0), CompiledExpression(resolve($0.1), context)) }
            return MapOperator(try input()) { row in
                var output: Row = keepInput ? row : layout.emptyRow()
                for (target, expression) in items { output[target] = try expression.evaluate(row) }
                return output
            }
        case .aggregate(let unresolvedKeys, let unresolvedAggregates):
            if unresolvedKeys.isEmpty, unresolvedAggregates.count == 1,
                let counting = try expansionCount(
                    node.children[0], unresolvedAggregates[0], slot: slot(AggregateSlot.name(for: unresolvedAggregates[0])),
                    argument: argument)
            {
                return counting
            }
            let keys = unresolvedKeys.map { (slot($0.0), resolve($0.1)) }
            let aggregates = unresolvedAggregates.map { (slot(AggregateSlot.name(for: $0)), resolve($0)) }
            let aggregation = Aggregation(keys: keys, aggregates: aggregates, context: context)
            let sink = AggregationSink(aggregation)
            if let (source, first) = try pushPipeline(node.children[0], argument: argument, into: AggregationStage(sink)) {
                return BufferOperator(source) {
                    sink.reset()
                    try self.drive(source, first)
                    return sink.rows()
                }
            }
            let source = try input()
            return BufferOperator(source) { try aggregation.run(source) }
        case .nodeCount(let label, let aggregate):
            let target = slot(AggregateSlot.name(for: aggregate))
            var row = layout.emptyRow()
            row[target] = .int(Int64(try graph.countNodes(label: label)))
            return SingleRowOperator(row)
        case .distinct(let columns):
            return DistinctOperator(try input(), columns.map(slot))
        case .sort(let unresolvedItems, let limit):
            let items = unresolvedItems.map { SortItem(expression: resolve($0.expression), ascending: $0.ascending) }
            let source = try input()
            let cap = try limit.map { try count($0, "LIMIT") }
            return BufferOperator(source) { try self.sort(source, items, cap) }
        case .skip(let expression):
            return SkipOperator(try input(), try count(expression, "SKIP"))
        case .limit(let expression):
            let limit = try count(expression, "LIMIT")
            return LimitOperator(try input(), limit)
        case .select(let columns):
            let kept = columns.map(slot)
            return MapOperator(try input()) { row in
                var output = layout.emptyRow()
                for column in kept { output[column] = row[column] }
                return output
            }
        case .unwind(let unresolved, let aliasName):
            let expression = resolve(unresolved)
            let alias = slot(aliasName)
            return FlatMapOperator(try input(), context) { row in
                let value = try context.evaluate(expression, row)
                let items: [Value]
                switch value {
                case .null: items = []
                default: items = value.listElements ?? [value]
                }
                var index = 0
                var output = row
                return {
                    guard index < items.count else { return nil }
                    defer { index += 1 }
                    output[alias] = items[index]
                    return output
                }
            }
        case .call(let name, let unresolvedArguments, let unresolvedYields):
            let arguments = unresolvedArguments.map(resolve)
            let yields = unresolvedYields.map { ($0.field, slot($0.alias)) }
            guard let procedure = context.procedures.procedure(named: name) else {
                throw CypherError(.readOnlyQuery, "procedure \(name) is not registered", detail: "UnknownProcedure")
            }
            return FlatMapOperator(try input(), context) { row in
                let values = try arguments.map { try context.evaluate($0, row) }
                let results: [[Value]]
                do {
                    results = try procedure.body(values, graph)
                } catch let error as CypherError {
                    throw error
                } catch {
                    throw CypherError(.procedureFailed, "procedure \(name) failed: \(error)")
                }
                var index = 0
                return {
                    guard index < results.count else { return nil }
                    defer { index += 1 }
                    var output = row
                    for (field, alias) in yields {
                        let position = procedure.outputs.firstIndex(of: field)!
                        output[alias] = position < results[index].count ? results[index][position] : .null
                    }
                    return output
                }
            }
        case .buildPath(let variableName, let nodeNames, let relationshipNames):
            let variable = slot(variableName)
            let nodes = nodeNames.map(slot)
            let relationships = relationshipNames.map { (slot($0.0), $0.1) }
            return MapOperator(try input()) { row in
                var output = row
                output[variable] = self.path(row, nodes, relationships)
                return output
            }
        case .create(let parts):
            guard let writable = graph as? any CypherWritableGraph else {
                throw CypherError(.readOnlyQuery, "CREATE needs a writable fixture graph")
            }
            return MapOperator(try input()) { row in try self.create(parts, row, writable) }
        case .delete(let unresolvedTargets, _):
            let targets = unresolvedTargets.map(resolve)
            guard let writable = graph as? any CypherWritableGraph else {
                throw CypherError(.readOnlyQuery, "DELETE needs a writable fixture graph")
            }
            return MapOperator(try input()) { row in
                for target in targets {
                    if case .relationship(let record) = try context.evaluate(target, row) {
                        writable.deleteRelationship(record.id)
                    }
                }
                return row
            }
        case .union(let all, let columns):
            let parts = try node.children.map { try build($0, argument: argument) }
            let concatenated = ConcatOperator(parts)
            return all ? concatenated : DistinctOperator(concatenated, columns.map(slot))
        }
    }

    private func create(_ parts: [PatternPart], _ input: Row, _ graph: any CypherWritableGraph) throws -> Row {
        var row = input
        func properties(_ expression: Expression?) throws -> [String: PropertyValue] {
            guard let expression else { return [:] }
            guard case .map(let entries) = try context.evaluate(layout.resolve(expression), row) else { return [:] }
            return entries.compactMapValues { $0.propertyValue }
        }
        for part in parts {
            var ids: [NodeID] = []
            for node in part.nodes {
                let target = layout.slot(node.variable!)
                if case .node(let existing) = row[target] {
                    ids.append(existing)
                    continue
                }
                let id = graph.createNode(labels: node.labels, properties: try properties(node.properties))
                row[target] = .node(id)
                ids.append(id)
            }
            for (index, relationship) in part.relationships.enumerated() {
                let (start, end) =
                    relationship.direction == .incoming ? (ids[index + 1], ids[index]) : (ids[index], ids[index + 1])
                let record = graph.createRelationship(
                    type: relationship.types.first ?? "RELATED", from: start, to: end,
                    properties: try properties(relationship.properties))
                if let name = relationship.variable { row[layout.slot(name)] = .relationship(record) }
            }
        }
        return row
    }

    /// Breadth-first search from `source` to `target`: the first shortest path, or all of them.
    private func shortestPaths(
        from source: NodeID, to target: NodeID, direction: ExpandDirection, types: [String], minimum: Int,
        maximum: Int, all: Bool, propertyMap: Value?
    ) throws -> [PathValue] {
        if source == target {
            return minimum == 0 ? [PathValue(nodes: [source], relationships: [])] : []
        }
        var depthOf: [NodeID: Int] = [source: 0]
        var parents: [NodeID: [(RelationshipRecord, NodeID)]] = [:]
        var frontier = [source]
        var depth = 0
        while !frontier.isEmpty && depth < maximum && depthOf[target] == nil {
            depth += 1
            var next: [NodeID] = []
            for node in frontier {
                var edges = try graph.relationships(of: node, direction: direction, types: types)
                while let edge = edges.next() {
                    try context.tick()
                    if let propertyMap, !(try matches(edge, propertyMap)) { continue }
                    let other = edge.otherEnd(from: node)
                    if let seen = depthOf[other] {
                        if all && seen == depth { parents[other, default: []].append((edge, node)) }
                        continue
                    }
                    depthOf[other] = depth
                    parents[other] = [(edge, node)]
                    next.append(other)
                }
            }
            frontier = next
        }
        guard let length = depthOf[target], length >= minimum else { return [] }
        var paths: [PathValue] = []
        // Walk the parent links back from the target; every combination is one shortest path.
        func walk(_ node: NodeID, _ suffixNodes: [NodeID], _ suffixRelationships: [RelationshipRecord]) {
            if node == source {
                paths.append(PathValue(nodes: [source] + suffixNodes, relationships: suffixRelationships))
                return
            }
            for (edge, parent) in parents[node] ?? [] {
                walk(parent, [node] + suffixNodes, [edge] + suffixRelationships)
                if !all && !paths.isEmpty { return }
            }
        }
        walk(target, [], [])
        return paths
    }

    func usedRelationships(_ row: Row, _ excluded: [(Int, Bool)]) -> Set<RelationshipID> {
        var used: Set<RelationshipID> = []
        for (slot, _) in excluded {
            switch row[slot] {
            case .relationship(let record): used.insert(record.id)
            case .list(let items):
                for case .relationship(let record) in items { used.insert(record.id) }
            default: break
            }
        }
        return used
    }

    func matches(_ edge: RelationshipRecord, _ propertyMap: Value) throws -> Bool {
        guard case .map(let entries) = propertyMap else { return true }
        for (key, expected) in entries {
            let actual = try graph.property(key, ofRelationship: edge.id).map(Value.init) ?? .null
            if actual.equals(expected) != true { return false }
        }
        return true
    }

    private func path(_ row: Row, _ nodes: [Int], _ relationships: [(Int, Bool)]) -> Value {
        guard case .node(let first) = row[nodes[0]] else { return .null }
        var path = PathValue(nodes: [first], relationships: [])
        var current = first
        for (index, (name, isList)) in relationships.enumerated() {
            if isList {
                guard case .list(let items) = row[name] else { return .null }
                for case .relationship(let record) in items {
                    current = record.otherEnd(from: current)
                    path.relationships.append(record)
                    path.nodes.append(current)
                }
            } else {
                guard case .relationship(let record) = row[name] else { return .null }
                current = record.otherEnd(from: current)
                path.relationships.append(record)
                path.nodes.append(current)
            }
            if case .node(let expected) = row[nodes[index + 1]], expected != current { current = expected }
        }
        return .path(path)
    }

    private func sort(_ source: Operator, _ items: [SortItem], _ cap: Int?) throws -> [Row] {
        var keyed: [([Value], Row)] = []
        func less(_ a: [Value], _ b: [Value]) -> Bool {
            for (index, item) in items.enumerated() {
                let order = a[index].orderCompare(b[index])
                if order != 0 { return item.ascending ? order < 0 : order > 0 }
            }
            return false
        }
        while let row = try source.next() {
            try context.tick()
            let keys = try items.map { try context.evaluate($0.expression, row) }
            if let cap {
                // Top-k: keep at most `cap` rows, sorted, inserting stably after equal keys.
                if cap == 0 { continue }
                if keyed.count == cap, !less(keys, keyed[cap - 1].0) { continue }
                var low = 0
                var high = keyed.count
                while low < high {
                    let mid = (low + high) / 2
                    if less(keys, keyed[mid].0) { high = mid } else { low = mid + 1 }
                }
                keyed.insert((keys, row), at: low)
                if keyed.count > cap { keyed.removeLast() }
            } else {
                keyed.append((keys, row))
            }
        }
        if cap == nil {
            // A stable sort: ties keep their input order.
            let indexed = keyed.enumerated().map { ($0.offset, $0.element) }
            return indexed.sorted { a, b in
                if less(a.1.0, b.1.0) { return true }
                if less(b.1.0, a.1.0) { return false }
                return a.0 < b.0
            }.map { $0.1.1 }
        }
        return keyed.map(\.1)
    }
}

/// Depth-first enumeration of relationship paths of `minimum...maximum` hops from a node, each
/// relationship used at most once per path.
final class VariableLengthSearch {
    private let graph: any CypherGraph
    private let context: ExecutionContext
    private let executor: Executor
    private let direction: ExpandDirection
    private let types: [String]
    private let minimum: Int
    private let maximum: Int
    private let excluded: Set<RelationshipID>
    private let propertyMap: Value?
    private var stack: [(node: NodeID, edges: any IteratorProtocol<RelationshipRecord>)] = []
    private var path: [RelationshipRecord] = []
    /// The ids on `path`, kept only for deep searches: up to `linearSearchDepth` hops a scan of
    /// `path` is cheaper than hashing twice per walk.
    private var onPath: Set<RelationshipID> = []
    private static let linearSearchDepth = 8
    private let useSet: Bool
    /// The last walk ended at the maximum depth: its relationship leaves `path` at the next call,
    /// once the caller has let go of the returned path, so that the pop does not copy the array.
    private var popPending = false
    private var pendingStart: NodeID?

    init(
        graph: any CypherGraph, context: ExecutionContext, executor: Executor, source: NodeID,
        direction: ExpandDirection, types: [String], minimum: Int, maximum: Int, excluded: Set<RelationshipID>,
        propertyMap: Value?
    ) {
        self.graph = graph
        self.context = context
        self.executor = executor
        self.direction = direction
        self.types = types
        self.minimum = minimum
        self.maximum = maximum
        self.excluded = excluded
        self.propertyMap = propertyMap
        useSet = maximum > Self.linearSearchDepth
        pendingStart = source
    }

    private func isOnPath(_ id: RelationshipID) -> Bool {
        useSet ? onPath.contains(id) : path.contains { $0.id == id }
    }

    /// The next path (relationships in traversal order) and its end node.
    func next() throws -> ([RelationshipRecord], NodeID)? {
        if let start = pendingStart {
            pendingStart = nil
            if maximum > 0 {
                stack.append((start, try graph.relationships(of: start, direction: direction, types: types)))
            }
            if minimum == 0 { return ([], start) }
        }
        while !stack.isEmpty {
            if popPending {
                popPending = false
                if let last = path.popLast(), useSet { onPath.remove(last.id) }
            }
            try context.tick()
            let top = stack.count - 1
            guard let edge = stack[top].edges.next() else {
                stack.removeLast()
                if let last = path.popLast(), useSet { onPath.remove(last.id) }
                continue
            }
            if isOnPath(edge.id) || excluded.contains(edge.id) { continue }
            if let propertyMap, !(try executor.matches(edge, propertyMap)) { continue }
            let end = edge.otherEnd(from: stack[top].node)
            path.append(edge)
            if useSet { onPath.insert(edge.id) }
            if path.count < maximum {
                stack.append((end, try graph.relationships(of: end, direction: direction, types: types)))
            } else {
                popPending = true
            }
            if path.count >= minimum { return (path, end) }
        }
        return nil
    }
}

/// Grouping and aggregate computation.
struct Aggregation {
    let keys: [(Int, Expression)]
    let aggregates: [(Int, Expression)]
    let context: ExecutionContext

    struct Accumulator {
        /// The aggregate function, decided once so that a row costs no string comparison.
        enum Kind { case countStar, count, collect, sum, avg, stdev, stdevp, min, max, other }
        let kind: Kind
        let name: String
        let distinct: Bool
        /// The aggregated expression (`nil` for `count(*)`), taken apart once rather than per row.
        let argument: Expression?
        /// The row slot of the argument when it is a plain variable (`count(DISTINCT c)`): read
        /// directly, without evaluating the expression.
        let argumentSlot: Int?
        var seen: Set<Value> = []
        /// Distinct nodes, kept apart from `seen`: hashing an id is cheaper than hashing a value.
        var seenNodes: Set<NodeID> = []
        var count: Int64 = 0
        var values: [Value] = []
        var intSum: Int64 = 0
        var doubleSum: Double = 0
        var sawDouble = false
        var sawNumber = false
        var extreme: Value? = nil
        var sumOfSquares: Double = 0

        init(_ expression: Expression) {
            if case .function(let name, let distinct, let arguments) = expression.kind {
                self.name = name.lowercased()
                self.distinct = distinct
                argument = arguments.first
                if let first = arguments.first, case .variable = first.kind, first.slot >= 0 {
                    argumentSlot = first.slot
                } else {
                    argumentSlot = nil
                }
                kind =
                    switch self.name {
                    case "count": .count
                    case "collect": .collect
                    case "sum": .sum
                    case "avg": .avg
                    case "stdev": .stdev
                    case "stdevp": .stdevp
                    case "min": .min
                    case "max": .max
                    default: .other
                    }
            } else {
                name = "count*"
                distinct = false
                argument = nil
                argumentSlot = nil
                kind = .countStar
            }
        }

        mutating func add(_ row: Row, _ context: ExecutionContext) throws {
            guard let argument else {
                if kind == .countStar { count += 1 }
                return
            }
            let value = try argumentSlot.map { row[$0] } ?? context.evaluate(argument, row)
            if value.isNull { return }
            if distinct {
                if case .node(let id) = value {
                    if !seenNodes.insert(id).inserted { return }
                } else if !seen.insert(value.groupingKey).inserted {
                    return
                }
            }
            switch kind {
            case .count: count += 1
            case .collect: values.append(value)
            case .sum, .avg, .stdev, .stdevp:
                switch value {
                case .int(let i):
                    if !sawDouble {
                        let (sum, overflow) = intSum.addingReportingOverflow(i)
                        if overflow { throw CypherError(.arithmeticError, "integer overflow in \(name)()") }
                        intSum = sum
                    }
                    doubleSum += Double(i)
                    sumOfSquares += Double(i) * Double(i)
                case .double(let d):
                    sawDouble = true
                    doubleSum += d
                    sumOfSquares += d * d
                default:
                    throw CypherError.type("\(name)() expects numbers, got \(value.typeName)")
                }
                sawNumber = true
                count += 1
            case .min:
                if extreme == nil || value.orderCompare(extreme!) < 0 { extreme = value }
            case .max:
                if extreme == nil || value.orderCompare(extreme!) > 0 { extreme = value }
            case .countStar, .other: break
            }
        }

        var result: Value {
            switch kind {
            case .countStar, .count: return .int(count)
            case .collect: return .list(values)
            case .sum: return sawDouble ? .double(doubleSum) : .int(intSum)
            case .avg: return count == 0 ? .null : .double(doubleSum / Double(count))
            case .stdev, .stdevp:
                let denominator = Double(kind == .stdev ? count - 1 : count)
                guard denominator > 0 else { return .double(0) }
                let mean = doubleSum / Double(count)
                return .double(((sumOfSquares - Double(count) * mean * mean) / denominator).squareRoot())
            case .min, .max, .other: return extreme ?? .null
            }
        }
    }

    func run(_ source: Operator) throws -> [Row] {
        let sink = AggregationSink(self)
        while let row = try source.next() { try sink.add(row) }
        return sink.rows()
    }
}

/// The groups and accumulators of one aggregation, fed one row at a time: by ``Aggregation/run(_:)``
/// pulling its input, or by the last stage of a push pipeline (``PushPipeline``).
///
/// Groups keep first-seen order; the dictionaries map a key to the group's index, so that a row of
/// an existing group copies no tuple or array.
final class AggregationSink {
    private let aggregation: Aggregation
    private let context: ExecutionContext
    private let compiledKeys: [CompiledExpression]
    /// One key: groups are found by the value itself, with no array to build and hash.
    private var byValue: [Value: Int] = [:]
    private var byValues: [[Value]: Int] = [:]
    /// The key values of each group, in first-seen order.
    private var groupKeys: [[Value]] = []
    private let width: Int
    /// Reused buffers: a row of an existing group allocates nothing.
    private var values: [Value] = []
    private var keyValues: [Value] = []

    /// What every row updates, behind a pointer so that an update takes no exclusivity check.
    private struct State {
        /// The accumulators of every group, side by side: group `g`'s are at `g * width ..< (g +
        /// 1) * width`. Kept flat, and as values, so that adding a row retains nothing.
        var accumulators: [Aggregation.Accumulator] = []
        /// The groups by the key property's stored bytes (``ByteGroupTable``).
        var byBytes = ByteGroupTable()
    }
    private let state: UnsafeMutablePointer<State>

    /// One key that is a variable's property (`b.type`): its slot and reader, for grouping by the
    /// property's stored bytes (slot `-1` otherwise).
    private let keySlot: Int
    private let keyReader: any PropertyReader

    init(_ aggregation: Aggregation) {
        self.aggregation = aggregation
        context = aggregation.context
        compiledKeys = aggregation.keys.map { CompiledExpression($0.1, aggregation.context) }
        let keyProperty = compiledKeys.count == 1 ? compiledKeys[0].slotProperty : nil
        keySlot = keyProperty?.slot ?? -1
        keyReader = keyProperty?.reader ?? NoPropertyReader()
        state = UnsafeMutablePointer<State>.allocate(capacity: 1)
        state.initialize(to: State())
        width = aggregation.aggregates.count
        values.reserveCapacity(compiledKeys.count)
        keyValues.reserveCapacity(compiledKeys.count)
        reset()
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Drops every group, to aggregate a new run of rows.
    func reset() {
        state.pointee = State()
        byValue.removeAll()
        byValues.removeAll()
        groupKeys.removeAll()
        values.removeAll()
        // No keys: one group, with no key to evaluate, hash or look up per row.
        if aggregation.keys.isEmpty { newGroup() }
    }

    func add(_ row: Row) throws {
        try context.tick()
        let group: Int
        switch compiledKeys.count {
        case 0:
            group = 0
        case 1:
            if keySlot >= 0, let bytes = try groupingBytes(row[keySlot]) {
                if let found = state.pointee.byBytes.find(bytes) {
                    group = found
                } else {
                    let copy = [UInt8](bytes)  // the value path may read the graph again
                    group = try groupByValue(row)
                    copy.withUnsafeBytes { state.pointee.byBytes.insert($0, group: group) }
                }
            } else {
                group = try groupByValue(row)
            }
        default:
            values.removeAll(keepingCapacity: true)
            keyValues.removeAll(keepingCapacity: true)
            for key in compiledKeys {
                let value = try key.evaluate(row)
                keyValues.append(value.groupingKey)
                values.append(value)
            }
            if let found = byValues[keyValues] {
                group = found
            } else {
                group = groupKeys.count
                byValues[keyValues] = group
                newGroup()
            }
        }
        // In place: through `pointee` an element would be copied out and back (retaining its sets).
        try state.pointee.accumulators.withUnsafeMutableBufferPointer { accumulators in
            for index in group * width..<(group + 1) * width { try accumulators[index].add(row, context) }
        }
    }

    /// The group of a row with one key, found by the key's value.
    private func groupByValue(_ row: Row) throws(CypherError) -> Int {
        let value = try compiledKeys[0].evaluate(row)
        let key = value.groupingKey
        if let found = byValue[key] { return found }
        let group = groupKeys.count
        byValue[key] = group
        values = [value]
        newGroup()
        return group
    }

    /// The bytes the graph gives for grouping by the key property of this slot's node or
    /// relationship; `nil` when it gives none.
    @inline(__always)
    private func groupingBytes(_ value: Value) throws(CypherError) -> UnsafeRawBufferPointer? {
        do {
            switch value {
            case .node(let node): return try keyReader.groupingBytes(node: node)
            case .relationship(let relationship): return try keyReader.groupingBytes(relationship: relationship.id)
            default: return nil
            }
        } catch {
            throw ExecutionContext.graphError(error)
        }
    }

    /// Starts a group whose key values are in `values`.
    private func newGroup() {
        groupKeys.append(values)
        for aggregate in aggregation.aggregates { state.pointee.accumulators.append(Aggregation.Accumulator(aggregate.1)) }
    }

    /// One row per group, with the keys and the aggregates' results in their slots.
    func rows() -> [Row] {
        let empty = context.layout.emptyRow()
        return groupKeys.indices.map { group in
            var row = empty
            for (index, (slot, _)) in aggregation.keys.enumerated() { row[slot] = groupKeys[group][index] }
            for (index, (slot, _)) in aggregation.aggregates.enumerated() {
                row[slot] = state.pointee.accumulators[group * width + index].result
            }
            return row
        }
    }
}
