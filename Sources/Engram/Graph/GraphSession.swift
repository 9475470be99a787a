import EngramCore
import EngramStorage
import Foundation

/// One tenant's graph inside one transaction: the code that turns graph operations into key-value
/// reads and writes. Every write of a record and of the index entries it touches (adjacency both
/// ways, degrees, pair index, label index, property indexes, counts) happens in the caller's
/// transaction.
///
/// Reads of a tenant that has never been written see an empty graph; the tenant id is created on
/// its first write. The tenant id is the first component of every key the session touches, so no
/// read can reach another tenant's records.
final class GraphSession {
    let txn: Transaction
    let catalog: GraphCatalog
    let keyspaces: GraphKeyspaces
    let tenantName: String
    /// The tenant's id, or `nil` when the tenant has no data yet (reads see nothing).
    private(set) var tenant: UInt32?
    /// Symbols and tenants created or read by this session, handed to the catalog after commit.
    private(set) var learned = GraphCatalog.Names()

    init(txn: Transaction, catalog: GraphCatalog, tenant: String) throws {
        self.txn = txn
        self.catalog = catalog
        self.keyspaces = catalog.keyspaces
        self.tenantName = tenant
        self.tenant = try lookUpTenant(tenant)
    }

    // MARK: Tenants and symbols

    private func lookUpTenant(_ name: String) throws -> UInt32? {
        if let id = catalog.cachedTenant(name) { return id }
        var key = KeyWriter()
        key.append(name)
        guard let bytes = try txn.value(forKey: key.bytes, in: keyspaces.tenants) else { return nil }
        let id = bytes.withUnsafeBytes { GraphKey.uint32($0, at: 0) }
        learned.tenants[name] = id
        return id
    }

    /// The tenant's id, creating the tenant when this is its first write.
    func writableTenant() throws -> UInt32 {
        if let tenant { return tenant }
        guard !tenantName.isEmpty, tenantName.utf8.count <= 200 else {
            throw EngramError(.invalidName, "a tenant name must have 1 to 200 bytes")
        }
        let id = UInt32(truncatingIfNeeded: try nextSequence("tenant", start: 1))
        var key = KeyWriter()
        key.append(tenantName)
        try txn.put(KeyWriter.bigEndian(id), forKey: key.bytes, in: keyspaces.tenants)
        try txn.put(Array(tenantName.utf8), forKey: KeyWriter.bigEndian(id), in: keyspaces.tenantNames)
        learned.tenants[tenantName] = id
        tenant = id
        return id
    }

    /// The next value of a named sequence (starting at `start`), incremented in this transaction.
    func nextSequence(_ name: String, start: UInt64 = 1) throws -> UInt64 {
        let key = Array(name.utf8)
        let current = try txn.withValue(forKey: key, in: keyspaces.sequences) { bytes in
            bytes.map { GraphKey.uint64($0, at: 0) } ?? start
        }
        try txn.put(KeyWriter.bigEndian(current + 1), forKey: key, in: keyspaces.sequences)
        return current
    }

    /// The id of a symbol; `nil` when it does not exist and `create` is false.
    func symbol(_ kind: SymbolKind, _ name: String, create: Bool) throws -> UInt32? {
        if let id = catalog.cachedSymbol(kind, name) ?? learned.ids[kind]?[name] { return id }
        var key = KeyWriter()
        key.append(kind.rawValue)
        key.append(name)
        if let bytes = try txn.value(forKey: key.bytes, in: keyspaces.symbols) {
            let id = bytes.withUnsafeBytes { GraphKey.uint32($0, at: 0) }
            learn(kind, name, id)
            return id
        }
        guard create else { return nil }
        guard !name.isEmpty, name.utf8.count <= 400 else {
            throw EngramError(.invalidName, "a label, relationship type or property key must have 1 to 400 bytes")
        }
        let id = UInt32(truncatingIfNeeded: try nextSequence("symbol", start: 1))
        try txn.put(KeyWriter.bigEndian(id), forKey: key.bytes, in: keyspaces.symbols)
        var reverse = KeyWriter()
        reverse.append(kind.rawValue)
        reverse.append(id)
        try txn.put(Array(name.utf8), forKey: reverse.bytes, in: keyspaces.symbolNames)
        learn(kind, name, id)
        return id
    }

    /// Names already resolved by this session, so that hot loops do not take the catalog's lock.
    private var localNames: [UInt64: String] = [:]

    func name(_ kind: SymbolKind, _ id: UInt32) throws -> String {
        let localKey = UInt64(kind.rawValue) << 32 | UInt64(id)
        if let name = localNames[localKey] { return name }
        if let name = catalog.cachedName(kind, id) ?? learned.names[kind]?[id] {
            localNames[localKey] = name
            return name
        }
        var key = KeyWriter()
        key.append(kind.rawValue)
        key.append(id)
        guard let bytes = try txn.value(forKey: key.bytes, in: keyspaces.symbolNames) else {
            throw EngramError(.corrupted, "symbol \(id) of kind \(kind) has no name")
        }
        let name = String(decoding: bytes, as: UTF8.self)
        learn(kind, name, id)
        return name
    }

    private func learn(_ kind: SymbolKind, _ name: String, _ id: UInt32) {
        learned.ids[kind, default: [:]][name] = id
        learned.names[kind, default: [:]][id] = name
    }

    // MARK: Counts

    func count(_ kind: CountKind, _ symbol: UInt32 = 0) throws -> Int {
        guard let tenant else { return 0 }
        return try txn.withValue(forKey: GraphKey.count(tenant, kind, symbol), in: keyspaces.counts) { bytes in
            bytes.map { Int(GraphKey.uint64($0, at: 0)) } ?? 0
        }
    }

    func adjustCount(_ kind: CountKind, _ symbol: UInt32, by delta: Int) throws {
        let tenant = try writableTenant()
        let key = GraphKey.count(tenant, kind, symbol)
        let current = try txn.withValue(forKey: key, in: keyspaces.counts) { $0.map { Int(GraphKey.uint64($0, at: 0)) } ?? 0 }
        let next = current + delta
        if next <= 0 {
            try txn.delete(key, in: keyspaces.counts)
        } else {
            try txn.put(KeyWriter.bigEndian(UInt64(next)), forKey: key, in: keyspaces.counts)
        }
    }

    // MARK: Ids

    /// A new time-ordered public id: 10 Crockford base-32 digits of the milliseconds since 1970,
    /// then 13 of the internal id. Ids made later sort later; two ids never collide.
    static func generatePublicID(sequence: UInt64) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        let millis = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 23)
        for i in 0..<10 { bytes[9 - i] = alphabet[Int((millis >> (5 * UInt64(i))) & 31)] }
        for i in 0..<13 { bytes[22 - i] = alphabet[Int((sequence >> (5 * UInt64(i))) & 31)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func validatePublicID(_ id: String) throws {
        guard !id.isEmpty, id.utf8.count <= 400 else {
            throw EngramError(.invalidArgument, "an id must have 1 to 400 bytes")
        }
    }

    /// The internal id of the node with public id `id`.
    func nodeID(_ id: String) throws -> UInt64? {
        guard let tenant else { return nil }
        return try txn.withValue(forKey: GraphKey.publicID(tenant, id), in: keyspaces.nodeIDs) { $0.map { GraphKey.uint64($0, at: 0) } }
    }

    func requireNodeID(_ id: String) throws -> UInt64 {
        guard let node = try nodeID(id) else {
            throw EngramError(.notFound, "there is no node '\(id)' in tenant '\(tenantName)'")
        }
        return node
    }

    func relationshipID(_ id: String) throws -> UInt64? {
        guard let tenant else { return nil }
        return try txn.withValue(forKey: GraphKey.publicID(tenant, id), in: keyspaces.relationshipIDs) {
            $0.map { GraphKey.uint64($0, at: 0) }
        }
    }

    func requireRelationshipID(_ id: String) throws -> UInt64 {
        guard let relationship = try relationshipID(id) else {
            throw EngramError(.notFound, "there is no relationship '\(id)' in tenant '\(tenantName)'")
        }
        return relationship
    }

    // MARK: Reading records

    func storedNode(_ node: UInt64) throws -> StoredNode? {
        guard let tenant else { return nil }
        return try txn.withValue(forKey: GraphKey.node(tenant, node), in: keyspaces.nodes) { try $0.map(StoredNode.decode) }
    }

    func storedRelationship(_ relationship: UInt64) throws -> StoredRelationship? {
        guard let tenant else { return nil }
        return try txn.withValue(forKey: GraphKey.node(tenant, relationship), in: keyspaces.relationships) {
            try $0.map(StoredRelationship.decode)
        }
    }

    /// Lends the raw record of a node to `body` (zero copy).
    func withNodeRecord<R>(_ node: UInt64, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        guard let tenant else { return try body(nil) }
        return try txn.withValue(forKey: GraphKey.node(tenant, node), in: keyspaces.nodes, body)
    }

    /// Lends the raw record of a relationship to `body` (zero copy).
    func withRelationshipRecord<R>(_ relationship: UInt64, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        guard let tenant else { return try body(nil) }
        return try txn.withValue(forKey: GraphKey.node(tenant, relationship), in: keyspaces.relationships, body)
    }

    func publicNode(_ stored: StoredNode) throws -> GraphNode {
        GraphNode(
            id: stored.publicID, labels: try stored.labels.map { try name(.label, $0) },
            properties: try properties(stored.properties))
    }

    func publicRelationship(_ stored: StoredRelationship) throws -> GraphRelationship {
        guard let start = try storedNodePublicID(stored.start), let end = try storedNodePublicID(stored.end) else {
            throw EngramError(.corrupted, "relationship '\(stored.publicID)' points at a missing node")
        }
        return GraphRelationship(
            id: stored.publicID, type: try name(.relationshipType, stored.type), start: start, end: end,
            properties: try properties(stored.properties))
    }

    func storedNodePublicID(_ node: UInt64) throws -> String? {
        try withNodeRecord(node) { try $0.map(StoredNode.publicID) }
    }

    func properties(_ stored: [(key: UInt32, value: PropertyValue)]) throws -> [String: PropertyValue] {
        var result: [String: PropertyValue] = [:]
        result.reserveCapacity(stored.count)
        for (key, value) in stored { result[try name(.propertyKey, key)] = value }
        return result
    }

    /// Turns a property map into stored form: symbol ids, sorted, nulls dropped.
    func storedProperties(_ properties: [String: PropertyValue]) throws -> [(key: UInt32, value: PropertyValue)] {
        var stored: [(key: UInt32, value: PropertyValue)] = []
        for (key, value) in properties where !value.isNull {
            stored.append((try symbol(.propertyKey, key, create: true)!, value))
        }
        stored.sort { $0.key < $1.key }
        return stored
    }

    // MARK: Writing nodes

    /// Creates a node and returns its internal id.
    func createNode(publicID: String?, labels: [String], properties: [String: PropertyValue]) throws -> UInt64 {
        let tenant = try writableTenant()
        let node = try nextSequence("node")
        let id = publicID ?? Self.generatePublicID(sequence: node)
        try Self.validatePublicID(id)
        guard try txn.putIfAbsent(KeyWriter.bigEndian(node), forKey: GraphKey.publicID(tenant, id), in: keyspaces.nodeIDs) else {
            throw EngramError(.alreadyExists, "a node with id '\(id)' exists already in tenant '\(tenantName)'")
        }
        var labelIDs: [UInt32] = []
        for label in labels {
            let labelID = try symbol(.label, label, create: true)!
            if !labelIDs.contains(labelID) { labelIDs.append(labelID) }
        }
        let stored = StoredNode(publicID: id, labels: labelIDs, properties: try storedProperties(properties))
        try txn.put(stored.encoded(), forKey: GraphKey.node(tenant, node), in: keyspaces.nodes)
        for label in labelIDs {
            try txn.put([], forKey: GraphKey.label(tenant, label, node), in: keyspaces.labels)
            try adjustCount(.label, label, by: 1)
        }
        try adjustCount(.allNodes, 0, by: 1)
        try updateIndexes(node: node, old: nil, new: stored)
        try updateFullText(node: node, old: nil, new: stored)
        return node
    }

    /// Replaces a node's labels and properties, keeping every index in step.
    func replaceNode(_ node: UInt64, with updated: StoredNode) throws {
        let tenant = try writableTenant()
        guard let old = try storedNode(node) else {
            throw EngramError(.notFound, "there is no node \(node) in tenant '\(tenantName)'")
        }
        try txn.put(updated.encoded(), forKey: GraphKey.node(tenant, node), in: keyspaces.nodes)
        for label in old.labels where !updated.labels.contains(label) {
            try txn.delete(GraphKey.label(tenant, label, node), in: keyspaces.labels)
            try adjustCount(.label, label, by: -1)
        }
        for label in updated.labels where !old.labels.contains(label) {
            try txn.put([], forKey: GraphKey.label(tenant, label, node), in: keyspaces.labels)
            try adjustCount(.label, label, by: 1)
        }
        try updateIndexes(node: node, old: old, new: updated)
        try updateFullText(node: node, old: old, new: updated)
    }

    /// Deletes a node; with `detach`, its relationships first.
    func deleteNode(_ node: UInt64, detach: Bool) throws {
        let tenant = try writableTenant()
        guard let old = try storedNode(node) else {
            throw EngramError(.notFound, "there is no node \(node) in tenant '\(tenantName)'")
        }
        var attached: [UInt64] = []
        try forEachRelationship(of: node, direction: .both, types: nil) { relationship, _, _, _ in
            attached.append(relationship)
            return detach
        }
        if !attached.isEmpty {
            guard detach else {
                throw EngramError(
                    .nodeHasRelationships,
                    "node '\(old.publicID)' still has relationships; delete them first or delete with detach")
            }
            for relationship in attached { try deleteRelationship(relationship) }
        }
        try updateIndexes(node: node, old: old, new: nil)
        try updateFullText(node: node, old: old, new: nil)
        for label in old.labels {
            try txn.delete(GraphKey.label(tenant, label, node), in: keyspaces.labels)
            try adjustCount(.label, label, by: -1)
        }
        try txn.delete(GraphKey.publicID(tenant, old.publicID), in: keyspaces.nodeIDs)
        try txn.delete(GraphKey.node(tenant, node), in: keyspaces.nodes)
        try adjustCount(.allNodes, 0, by: -1)
    }

    // MARK: Writing relationships

    func createRelationship(
        publicID: String?, type: String, start: UInt64, end: UInt64, properties: [String: PropertyValue]
    ) throws -> UInt64 {
        let tenant = try writableTenant()
        for node in [start, end] where try withNodeRecord(node, { $0 == nil }) {
            throw EngramError(.notFound, "there is no node \(node) in tenant '\(tenantName)'")
        }
        let relationship = try nextSequence("relationship")
        let id = publicID ?? Self.generatePublicID(sequence: relationship)
        try Self.validatePublicID(id)
        guard
            try txn.putIfAbsent(
                KeyWriter.bigEndian(relationship), forKey: GraphKey.publicID(tenant, id), in: keyspaces.relationshipIDs)
        else {
            throw EngramError(.alreadyExists, "a relationship with id '\(id)' exists already in tenant '\(tenantName)'")
        }
        let typeID = try symbol(.relationshipType, type, create: true)!
        let stored = StoredRelationship(
            publicID: id, type: typeID, start: start, end: end, properties: try storedProperties(properties))
        try txn.put(stored.encoded(), forKey: GraphKey.node(tenant, relationship), in: keyspaces.relationships)
        try putAdjacency(tenant, relationship, stored)
        try adjustDegree(start, GraphKey.outgoing, typeID, by: 1)
        try adjustDegree(end, GraphKey.incoming, typeID, by: 1)
        try txn.put([], forKey: GraphKey.pair(tenant, start, end, typeID, relationship), in: keyspaces.adjacencyPairs)
        try adjustCount(.relationshipType, typeID, by: 1)
        try adjustCount(.allRelationships, 0, by: 1)
        return relationship
    }

    func replaceRelationship(_ relationship: UInt64, properties: [(key: UInt32, value: PropertyValue)]) throws {
        let tenant = try writableTenant()
        guard var stored = try storedRelationship(relationship) else {
            throw EngramError(.notFound, "there is no relationship \(relationship) in tenant '\(tenantName)'")
        }
        stored.properties = properties
        try txn.put(stored.encoded(), forKey: GraphKey.node(tenant, relationship), in: keyspaces.relationships)
        try putAdjacency(tenant, relationship, stored)
    }

    /// Writes both adjacency entries of a relationship, carrying its properties. It does not count
    /// them in `degrees`: it also rewrites the entries of an existing relationship (new properties,
    /// the format upgrade), so the callers that create entries count them.
    func putAdjacency(_ tenant: UInt32, _ relationship: UInt64, _ stored: StoredRelationship) throws {
        try Self.putAdjacency(
            AdjacencyValue.encode(stored.properties), tenant, relationship, stored, in: keyspaces.adjacency, txn)
    }

    /// Writes `value` into both adjacency entries of a relationship (also used by the format
    /// upgrade, which has no session).
    static func putAdjacency(
        _ value: [UInt8], _ tenant: UInt32, _ relationship: UInt64, _ stored: StoredRelationship,
        in adjacency: Keyspace, _ txn: Transaction
    ) throws {
        try txn.put(
            value, forKey: GraphKey.adjacency(tenant, stored.start, GraphKey.outgoing, stored.type, stored.end, relationship),
            in: adjacency)
        try txn.put(
            value, forKey: GraphKey.adjacency(tenant, stored.end, GraphKey.incoming, stored.type, stored.start, relationship),
            in: adjacency)
    }

    func deleteRelationship(_ relationship: UInt64) throws {
        let tenant = try writableTenant()
        guard let stored = try storedRelationship(relationship) else {
            throw EngramError(.notFound, "there is no relationship \(relationship) in tenant '\(tenantName)'")
        }
        try txn.delete(GraphKey.adjacency(tenant, stored.start, GraphKey.outgoing, stored.type, stored.end, relationship), in: keyspaces.adjacency)
        try txn.delete(GraphKey.adjacency(tenant, stored.end, GraphKey.incoming, stored.type, stored.start, relationship), in: keyspaces.adjacency)
        try adjustDegree(stored.start, GraphKey.outgoing, stored.type, by: -1)
        try adjustDegree(stored.end, GraphKey.incoming, stored.type, by: -1)
        try txn.delete(GraphKey.pair(tenant, stored.start, stored.end, stored.type, relationship), in: keyspaces.adjacencyPairs)
        try txn.delete(GraphKey.publicID(tenant, stored.publicID), in: keyspaces.relationshipIDs)
        try txn.delete(GraphKey.node(tenant, relationship), in: keyspaces.relationships)
        try adjustCount(.relationshipType, stored.type, by: -1)
        try adjustCount(.allRelationships, 0, by: -1)
    }

    // MARK: Adjacency

    /// Calls `body(relationship, type, start, end)` for each relationship of `node` in `direction`
    /// whose type is in `types` (any when `nil`); `body` returns `false` to stop. A self-loop is
    /// reported once for `.both`.
    ///
    /// - Complexity: one prefix scan per direction and type, O(log n + k).
    func forEachRelationship(
        of node: UInt64, direction: GraphDirection, types: [UInt32]?,
        _ body: (_ relationship: UInt64, _ type: UInt32, _ start: UInt64, _ end: UInt64) throws -> Bool
    ) throws {
        guard let tenant else { return }
        var directions: [UInt8] = []
        if direction != .incoming { directions.append(GraphKey.outgoing) }
        if direction != .outgoing { directions.append(GraphKey.incoming) }
        for dir in directions {
            let typeFilters: [UInt32?] = types.map { $0.map { Optional($0) } } ?? [nil]
            for type in typeFilters {
                var keepGoing = true
                try txn.scan(in: keyspaces.adjacency, prefix: GraphKey.adjacencyPrefix(tenant, node, dir, type)) { key, _ in
                    let typeID = GraphKey.uint32(key, at: 13)
                    let other = GraphKey.uint64(key, at: 17)
                    let relationship = GraphKey.uint64(key, at: 25)
                    if dir == GraphKey.incoming && direction == .both && other == node { return true }  // self-loop seen outgoing
                    keepGoing = try dir == GraphKey.outgoing
                        ? body(relationship, typeID, node, other) : body(relationship, typeID, other, node)
                    return keepGoing
                }
                if !keepGoing { return }
            }
        }
    }

    /// Calls `body` for each relationship from `start` to `end` (one range scan of the pair index).
    func forEachRelationship(
        from start: UInt64, to end: UInt64, types: [UInt32]?, _ body: (_ relationship: UInt64, _ type: UInt32) throws -> Bool
    ) throws {
        guard let tenant else { return }
        try txn.scan(in: keyspaces.adjacencyPairs, prefix: GraphKey.pair(tenant, start, end, nil, nil)) { key, _ in
            let type = GraphKey.uint32(key, at: 20)
            if let types, !types.contains(type) { return true }
            return try body(GraphKey.uint64(key, at: 24), type)
        }
    }

    /// The ids of the nodes with `label` (every node when `nil`), in id order; `body` returns
    /// `false` to stop.
    func forEachNode(label: UInt32?, _ body: (UInt64) throws -> Bool) throws {
        guard let tenant else { return }
        if let label {
            try txn.scan(in: keyspaces.labels, prefix: GraphKey.label(tenant, label, nil)) { key, _ in
                try body(GraphKey.uint64(key, at: 8))
            }
        } else {
            try txn.scan(in: keyspaces.nodes, prefix: GraphKey.tenant(tenant)) { key, _ in
                try body(GraphKey.uint64(key, at: 4))
            }
        }
    }

    // MARK: Property indexes

    /// A declared property index.
    struct IndexDefinition: Equatable {
        var label: UInt32
        var key: UInt32
        var normalized: Bool
    }

    func indexDefinitions(for label: UInt32) throws -> [IndexDefinition] {
        guard let tenant else { return [] }
        var definitions: [IndexDefinition] = []
        try txn.scan(in: keyspaces.indexDefinitions, prefix: GraphKey.indexDefinition(tenant, label, nil)) { key, value in
            definitions.append(IndexDefinition(label: label, key: GraphKey.uint32(key, at: 8), normalized: value.first == 1))
            return true
        }
        return definitions
    }

    func indexDefinition(label: UInt32, key: UInt32) throws -> IndexDefinition? {
        guard let tenant else { return nil }
        return try txn.withValue(forKey: GraphKey.indexDefinition(tenant, label, key), in: keyspaces.indexDefinitions) { value in
            value.map { IndexDefinition(label: label, key: key, normalized: $0.first == 1) }
        }
    }

    /// Declares an index and fills it from the nodes that have the label.
    func declareIndex(label: String, property: String, normalized: Bool) throws {
        let tenant = try writableTenant()
        let labelID = try symbol(.label, label, create: true)!
        let keyID = try symbol(.propertyKey, property, create: true)!
        if let existing = try indexDefinition(label: labelID, key: keyID) {
            guard existing.normalized != normalized else { return }
            try dropIndexEntries(existing)
        }
        try txn.put([normalized ? 1 : 0], forKey: GraphKey.indexDefinition(tenant, labelID, keyID), in: keyspaces.indexDefinitions)
        let definition = IndexDefinition(label: labelID, key: keyID, normalized: normalized)
        var nodes: [UInt64] = []
        try forEachNode(label: labelID) { nodes.append($0); return true }
        for node in nodes {
            let value = try withNodeRecord(node) { try $0.flatMap { try StoredNode.property(keyID, in: $0) } }
            if let value, let key = indexKey(definition, value, node: node) {
                try txn.put([], forKey: key, in: keyspaces.propertyIndex)
            }
        }
    }

    private func dropIndexEntries(_ definition: IndexDefinition) throws {
        let tenant = try writableTenant()
        let prefix = GraphKey.indexEntryPrefix(tenant, definition.label, definition.key).bytes
        var keys: [[UInt8]] = []
        try txn.scan(in: keyspaces.propertyIndex, prefix: prefix) { key, _ in keys.append(Array(key)); return true }
        for key in keys { try txn.delete(key, in: keyspaces.propertyIndex) }
    }

    /// The index element of a value, or `nil` for values that are not indexed (lists, maps,
    /// bytes, vectors). Numbers are indexed as doubles so that `1` and `1.0` meet; callers compare
    /// the exact values after the lookup.
    static func indexElement(_ value: PropertyValue, normalized: Bool) -> KeyElement? {
        switch value {
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .double(Double(number))
        case .double(let number): return .double(number)
        case .string(let text): return .string(normalized ? normalize(text) : text)
        default: return nil
        }
    }

    /// Case-, diacritics- and whitespace-insensitive form of a name.
    static func normalize(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    func indexKey(_ definition: IndexDefinition, _ value: PropertyValue, node: UInt64) -> [UInt8]? {
        guard let tenant, let element = Self.indexElement(value, normalized: definition.normalized) else { return nil }
        var writer = GraphKey.indexEntryPrefix(tenant, definition.label, definition.key)
        KeyTuple.append(element, to: &writer)
        writer.append(node)
        return writer.bytes.count <= 511 ? writer.bytes : nil  // values too long for a key are not indexed
    }

    func updateIndexes(node: UInt64, old: StoredNode?, new: StoredNode?) throws {
        var labels = Set(old?.labels ?? [])
        labels.formUnion(new?.labels ?? [])
        for label in labels {
            for definition in try indexDefinitions(for: label) {
                let oldValue = old.flatMap { $0.labels.contains(label) ? $0.properties.first { $0.key == definition.key }?.value : nil }
                let newValue = new.flatMap { $0.labels.contains(label) ? $0.properties.first { $0.key == definition.key }?.value : nil }
                let oldKey = oldValue.flatMap { indexKey(definition, $0, node: node) }
                let newKey = newValue.flatMap { indexKey(definition, $0, node: node) }
                if oldKey == newKey { continue }
                if let oldKey { try txn.delete(oldKey, in: keyspaces.propertyIndex) }
                if let newKey { try txn.put([], forKey: newKey, in: keyspaces.propertyIndex) }
            }
        }
    }

    /// Node ids whose indexed value lies in the element range (`nil` bounds are open); candidates
    /// only — the caller compares exact values.
    func indexCandidates(
        _ definition: IndexDefinition, lower: (KeyElement, inclusive: Bool)?, upper: (KeyElement, inclusive: Bool)?,
        _ body: (UInt64) throws -> Bool
    ) throws {
        guard let tenant else { return }
        let prefix = GraphKey.indexEntryPrefix(tenant, definition.label, definition.key)
        // Only elements of the bounds' kind: an open side stops at the edge of that kind's tag range.
        var from = prefix
        var to = prefix
        if let lower { KeyTuple.append(lower.0, to: &from) } else if let upper { from.append(upper.0.tag) }
        if let upper { KeyTuple.append(upper.0, to: &to) } else if let lower { to.append(lower.0.tag) }
        let prefixBytes = prefix.bytes
        // Inclusive upper bounds and exclusive lower bounds are settled on the decoded element.
        let upperScan = prefixSuccessorAfterElement(to.bytes)
        try txn.scan(in: keyspaces.propertyIndex, from: from.bytes, to: upperScan) { key, _ in
            var reader = KeyReader(UnsafeRawBufferPointer(rebasing: key[prefixBytes.count...]))
            let element = try KeyTuple.readElement(from: &reader)
            if let lower, !lower.inclusive, element == lower.0 { return true }
            if let upper, element == upper.0, !upper.inclusive { return true }
            return try body(try reader.readUInt64())
        }
    }

    /// The smallest key above every key that starts with `bytes` (followed by a node id).
    private func prefixSuccessorAfterElement(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBytes { EngramStorage.prefixSuccessor($0) }
    }
}
