import EngramCore
import EngramCypher
import EngramStorage
import Foundation

/// The ``CypherGraph`` of one tenant inside one read transaction: how Cypher reads the LMDB graph.
///
/// Label scans and expansions are lazy cursor walks over the label index and the adjacency
/// keyspace, so a `LIMIT` query reads only the keys it needs. Labels, properties and types are read
/// from records on demand, one property at a time without decoding the others. A node's record is
/// looked up once per query: LMDB's pages do not change under a read transaction, so the record's
/// buffer found by a lookup or a scan serves every later read of that node.
///
/// Expired memories, conversations and messages (``ExpiredRecords``) are hidden from every access
/// path, with the relationships that touch them; ``countNodes(label:)`` counts only what remains.
///
/// Iterators cannot throw; a storage failure during one ends the iteration and is kept in
/// ``failure``, which the caller checks (and throws) once the query has run.
final class StoreCypherGraph: CypherGraph {
    let session: GraphSession
    /// The first storage error met inside an iterator.
    private(set) var failure: (any Error)?
    private var indexed: [String: Bool] = [:]
    private var typeNames: [UInt32: String] = [:]

    /// The expired nodes to hide; `nil` when nothing in the tenant can expire.
    let expired: ExpiredRecords?

    /// - Parameters:
    ///   - session: the tenant's read session.
    ///   - now: the query's time, against which expiry is decided.
    init(session: GraphSession, now: Date) throws {
        self.session = session
        expired = try ExpiredRecords.make(session: session, now: now)
        cachesRecords = true
        relationshipCursor = try session.txn.makeCursor(in: session.keyspaces.relationships)
        adjacency = UnsafeMutablePointer<AdjacencyCache>.allocate(capacity: 1)
        adjacency!.initialize(to: AdjacencyCache())
    }

    /// A graph that hides nothing and keeps no record buffer: for fixtures, which write while they
    /// read (a write may move a record).
    init(session: GraphSession) {
        self.session = session
        expired = nil
        cachesRecords = false
        relationshipCursor = nil
        adjacency = nil
    }

    // MARK: Records

    /// Whether record buffers are kept (only under a read-only transaction).
    private let cachesRecords: Bool
    /// Node records already found in this transaction; cleared when it reaches the limit. Kept
    /// behind a pointer that the property readers share: a lookup through it takes no reference
    /// and no exclusivity check (through a stored `var` it took both, per row).
    let nodeRecords: UnsafeMutablePointer<RecordTable> = {
        let table = UnsafeMutablePointer<RecordTable>.allocate(capacity: 1)
        table.initialize(to: RecordTable(limit: recordLimit))
        return table
    }()
    /// The most node records a query keeps at once.
    static let recordLimit = 1 << 18

    deinit {
        nodeRecords.deinitialize(count: 1)
        nodeRecords.deallocate()
        adjacency?.deallocate()
    }

    /// Calls `body` with the record key `t id`, built on the stack.
    @inline(__always)
    private func withRecordKey<R>(_ tenant: UInt32, _ id: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows
        -> R
    {
        var key: (UInt64, UInt64) = (0, 0)
        return try withUnsafeMutableBytes(of: &key) { raw in
            raw.storeBytes(of: tenant.bigEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: id.bigEndian, toByteOffset: 4, as: UInt64.self)
            return try body(UnsafeRawBufferPointer(rebasing: raw[0..<12]))
        }
    }

    private func remember(_ node: NodeID, _ record: UnsafeRawBufferPointer) {
        guard cachesRecords else { return }
        nodeRecords.pointee.insert(node, record)
    }

    /// The record of `node`, `nil` when there is none.
    @inline(__always)
    func nodeRecord(_ node: NodeID) throws -> UnsafeRawBufferPointer? {
        if let known = nodeRecords.pointee.find(node) { return known }
        return try readNodeRecord(node)
    }

    private func readNodeRecord(_ node: NodeID) throws -> UnsafeRawBufferPointer? {
        guard let tenant = session.tenant else { return nil }
        let found = try withRecordKey(tenant, node) { key in
            try session.txn.withValue(forKey: key, in: session.keyspaces.nodes) { $0 }
        }
        if let found { remember(node, found) }
        return found
    }

    /// The cursor of relationship record reads. LMDB looks for a key on the cursor's current page
    /// before descending the tree, and the relationships of one node usually have neighbouring ids
    /// (a bulk load numbers them in adjacency order), so an expansion that reads their properties
    /// mostly stays on one page.
    /// `nil` in a fixture graph, which writes between reads and so looks records up afresh.
    private let relationshipCursor: Cursor?
    /// The relationship the cursor stands on, so that the next id is one step away.
    private var cursorRelationship: RelationshipID?

    /// The record of relationship `id`, `nil` when there is none. Valid for the query's read
    /// transaction; in a fixture graph (which writes) only until the next write.
    func relationshipRecord(_ id: RelationshipID) throws -> UnsafeRawBufferPointer? {
        guard let tenant = session.tenant else { return nil }
        guard let cursor = relationshipCursor else {
            return try withRecordKey(tenant, id) { key in
                try session.txn.withValue(forKey: key, in: session.keyspaces.relationships) { $0 }
            }
        }
        let entry: Cursor.Entry?
        if let current = cursorRelationship, current &+ 1 == id {
            entry = try cursor.next()
        } else {
            entry = try withRecordKey(tenant, id) { try cursor.seek(atOrAfter: $0) }
        }
        guard let (key, value) = entry, key.count == 12,
            UInt32(bigEndian: key.loadUnaligned(as: UInt32.self)) == tenant
        else {
            cursorRelationship = nil
            return nil
        }
        let found = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
        cursorRelationship = found
        return found == id ? value : nil
    }

    /// The adjacency entries expansions stood on last (``AdjacencyCache``), shared by pointer with
    /// the walkers that note them and the readers that find them. `nil` in a fixture graph, which
    /// writes and so keeps no buffer.
    let adjacency: UnsafeMutablePointer<AdjacencyCache>?

    /// Notes that the adjacency entry of `relationship` holds `value`.
    @inline(__always)
    func noteAdjacency(_ relationship: RelationshipID, _ value: UnsafeRawBufferPointer) {
        adjacency?.pointee.note(relationship, value)
    }

    /// The properties of `relationship` from an adjacency entry met during this query, if any.
    @inline(__always)
    func adjacencyProperties(_ relationship: RelationshipID) -> UnsafeRawBufferPointer? {
        adjacency?.pointee.find(relationship)
    }

    /// Whether the query must not see `node` (it has expired).
    @inline(__always)
    func isHidden(_ node: NodeID) throws -> Bool {
        guard let expired else { return false }
        return try expired.isExpired(node)
    }

    /// `nodes` without the hidden ones.
    private func visible(_ nodes: [NodeID]) throws -> [NodeID] {
        guard expired != nil else { return nodes }
        return try nodes.filter { try !isHidden($0) }
    }

    private func record(_ error: any Error) {
        if failure == nil { failure = error }
    }

    /// Symbol ids resolved during this query (`nil` entries: the name does not exist).
    private var labelIDs: [String: UInt32?] = [:]
    /// Property keys resolved during this query, found by equality: a query names few keys, and
    /// comparing a short string costs less than hashing it on every property read.
    private var keyIDs: [(name: String, id: UInt32?)] = []
    /// Labels that every node of the tenant carries, so that checking them costs nothing.
    private var universalLabels: [String: Bool] = [:]

    private func labelID(_ label: String) throws -> UInt32? {
        if let known = labelIDs[label] { return known }
        let id = try session.symbol(.label, label, create: false)
        labelIDs[label] = id
        return id
    }

    func keyID(_ key: String) throws -> UInt32? {
        for index in keyIDs.indices where keyIDs[index].name == key { return keyIDs[index].id }
        let id = try session.symbol(.propertyKey, key, create: false)
        keyIDs.append((key, id))
        return id
    }

    // MARK: Counts

    func nodeCount(label: String?) throws -> Int {
        guard let label else { return try session.count(.allNodes) }
        guard let id = try labelID(label) else { return 0 }
        return try session.count(.label, id)
    }

    func relationshipCount(type: String?) throws -> Int {
        guard let type else { return try session.count(.allRelationships) }
        guard let id = try session.symbol(.relationshipType, type, create: false) else { return 0 }
        return try session.count(.relationshipType, id)
    }

    /// The exact number of visible nodes: the stored count unless some may have expired.
    func countNodes(label: String?) throws -> Int {
        guard expired != nil else { return try nodeCount(label: label) }
        var iterator = try nodes(label: label)
        var count = 0
        while iterator.next() != nil { count += 1 }
        return count
    }

    // MARK: Nodes

    func nodes(label: String?) throws -> any IteratorProtocol<NodeID> {
        guard let tenant = session.tenant else { return EmptyIterator() }
        // A label every node carries is scanned like all nodes: over the records themselves, so
        // that the properties the query reads next are already at hand.
        if let label, try !cachesRecords || !isUniversal(label) {
            guard let id = try labelID(label) else { return EmptyIterator() }
            return try KeyIterator(
                session: session, keyspace: session.keyspaces.labels, prefixes: [GraphKey.label(tenant, id, nil)],
                onError: record) { [self] key, _ in
                    let node = GraphKey.uint64(key, at: 8)
                    return try isHidden(node) ? nil : node
                }
        }
        return try KeyIterator(
            session: session, keyspace: session.keyspaces.nodes, prefixes: [GraphKey.tenant(tenant)], onError: record
        ) { [self] key, value in
            let node = GraphKey.uint64(key, at: 4)
            if try isHidden(node) { return nil }
            remember(node, value)
            return node
        }
    }

    /// A scan without an iterator: one cursor walk over the label index, or — for a label every
    /// node carries, or none — over the records themselves, remembering each for the property
    /// reads that follow.
    func forEachNode(label: String?, _ body: (NodeID) throws -> Void) throws {
        guard let tenant = session.tenant else { return }
        if let label, try !cachesRecords || !isUniversal(label) {
            guard let id = try labelID(label) else { return }
            try session.txn.scan(in: session.keyspaces.labels, prefix: GraphKey.label(tenant, id, nil)) { key, _ in
                let node = GraphKey.uint64(key, at: 8)
                if try !isHidden(node) { try body(node) }
                return true
            }
            return
        }
        let total = try session.count(.allNodes)
        guard cachesRecords, total <= Self.recordLimit else {
            try session.txn.scan(in: session.keyspaces.nodes, prefix: GraphKey.tenant(tenant)) { key, value in
                let node = GraphKey.uint64(key, at: 4)
                if try !isHidden(node) {
                    remember(node, value)
                    try body(node)
                }
                return true
            }
            return
        }
        // Every record fits in the table: remember them all first, in one walk, then visit. A
        // pipeline reads the other end of each relationship as it goes, and half of those lie
        // ahead of the scan: found in the table rather than by a seek from the root each.
        nodeRecords.pointee.reserve(total)
        var nodes: [NodeID] = []
        nodes.reserveCapacity(total)
        try session.txn.scan(in: session.keyspaces.nodes, prefix: GraphKey.tenant(tenant)) { key, value in
            let node = GraphKey.uint64(key, at: 4)
            if try !isHidden(node) {
                remember(node, value)
                nodes.append(node)
            }
            return true
        }
        for node in nodes { try body(node) }
    }

    func nodeExists(_ node: NodeID) throws -> Bool {
        try nodeRecord(node) != nil && !isHidden(node)
    }

    func node(publicID: String) throws -> NodeID? {
        guard let node = try session.nodeID(publicID), try !isHidden(node) else { return nil }
        return node
    }

    func publicID(ofNode node: NodeID) throws -> String {
        guard let record = try nodeRecord(node) else { throw missing("node", node) }
        return try StoredNode.publicID(record)
    }

    func labels(of node: NodeID) throws -> [String] {
        guard let record = try nodeRecord(node) else { throw missing("node", node) }
        return try StoredNode.labels(record).map { try session.name(.label, $0) }
    }

    func node(_ node: NodeID, hasLabel label: String) throws -> Bool {
        guard let id = try labelID(label), let tenant = session.tenant else { return false }
        if try isUniversal(label) { return try nodeRecord(node) != nil }
        return try session.txn.contains(GraphKey.label(tenant, id, node), in: session.keyspaces.labels)
    }

    /// Whether every node of the tenant has `label`. The snapshot cannot change during the query:
    /// when the label's count equals the number of nodes, every node has it (the usual case for a
    /// graph with one node label).
    private func isUniversal(_ label: String) throws -> Bool {
        if let known = universalLabels[label] { return known }
        let universal = try labelID(label).map { try session.count(.label, $0) == session.count(.allNodes) } ?? false
        universalLabels[label] = universal
        return universal
    }

    func nodeSnapshot(_ node: NodeID) throws -> (publicID: String, labels: [String], properties: [String: PropertyValue]) {
        guard let stored = try nodeRecord(node).map(StoredNode.decode) else { throw missing("node", node) }
        return (stored.publicID, try stored.labels.map { try session.name(.label, $0) }, try session.properties(stored.properties))
    }

    func property(_ key: String, ofNode node: NodeID) throws -> PropertyValue? {
        guard let id = try keyID(key) else { return nil }
        return try nodeRecord(node).flatMap { try StoredNode.property(id, in: $0) }
    }

    func propertyReader(_ key: String) -> any PropertyReader { StorePropertyReader(key: key, graph: self) }

    func properties(ofNode node: NodeID) throws -> [String: PropertyValue] {
        guard let stored = try nodeRecord(node).map(StoredNode.decode) else { throw missing("node", node) }
        return try session.properties(stored.properties)
    }

    // MARK: Relationships

    func relationships(of node: NodeID, direction: ExpandDirection, types: [String]) throws
        -> any IteratorProtocol<RelationshipRecord>
    {
        guard let tenant = session.tenant else { return EmptyIterator() }
        // `nil`: any type. Unknown types are dropped and repeated ones (`[:T|:T]`) kept once; the
        // ids are resolved as `[UInt32]` first, since a `compactMap` into `[UInt32?]` keeps the nils.
        var typeIDs: [UInt32?] = [nil]
        if !types.isEmpty {
            var known: [UInt32] = []
            for type in types {
                if let id = try session.symbol(.relationshipType, type, create: false), !known.contains(id) {
                    known.append(id)
                }
            }
            if known.isEmpty { return EmptyIterator() }
            typeIDs = known
        }
        var prefixes: [[UInt8]] = []
        if direction != .incoming { prefixes += typeIDs.map { GraphKey.adjacencyPrefix(tenant, node, GraphKey.outgoing, $0) } }
        if direction != .outgoing { prefixes += typeIDs.map { GraphKey.adjacencyPrefix(tenant, node, GraphKey.incoming, $0) } }
        // The keys come grouped by type: the last type's name is kept at hand.
        var lastType = UInt32.max
        var lastName = ""
        return try KeyIterator(session: session, keyspace: session.keyspaces.adjacency, prefixes: prefixes, onError: record) {
            [self] key, value in
            let dir = key[12]
            let type = UInt32(bigEndian: key.loadUnaligned(fromByteOffset: 13, as: UInt32.self))
            let other = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 17, as: UInt64.self))
            if dir == GraphKey.incoming && direction == .both && other == node { return nil }  // self-loop seen outgoing
            if try isHidden(other) { return nil }
            if type != lastType {
                lastName = try typeName(type)
                lastType = type
            }
            let name = lastName
            let id = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 25, as: UInt64.self))
            noteAdjacency(id, value)
            return dir == GraphKey.outgoing
                ? RelationshipRecord(id: id, type: name, start: node, end: other)
                : RelationshipRecord(id: id, type: name, start: other, end: node)
        }
    }

    func neighbourWalker(direction: ExpandDirection, types: [String]) throws -> any NeighbourWalker {
        try StoreNeighbourWalker(graph: self, direction: direction, types: types) ?? EmptyNeighbourWalker()
    }

    func typeName(_ type: UInt32) throws -> String {
        if let known = typeNames[type] { return known }
        let name = try session.name(.relationshipType, type)
        typeNames[type] = name
        return name
    }

    func relationship(_ id: RelationshipID) throws -> RelationshipRecord? {
        guard let header = try relationshipRecord(id).map(StoredRelationship.header),
            try !isHidden(header.start), try !isHidden(header.end)
        else { return nil }
        return RelationshipRecord(
            id: id, type: try typeName(header.type), start: header.start, end: header.end)
    }

    func publicID(ofRelationship id: RelationshipID) throws -> String {
        guard let header = try relationshipRecord(id).map(StoredRelationship.header) else {
            throw missing("relationship", id)
        }
        return header.publicID
    }

    func property(_ key: String, ofRelationship id: RelationshipID) throws -> PropertyValue? {
        guard let keyID = try keyID(key) else { return nil }
        if let properties = adjacencyProperties(id) { return try AdjacencyValue.property(keyID, in: properties) }
        return try relationshipRecord(id).flatMap { try StoredRelationship.property(keyID, in: $0) }
    }

    func properties(ofRelationship id: RelationshipID) throws -> [String: PropertyValue] {
        if let properties = adjacencyProperties(id) { return try session.properties(AdjacencyValue.properties(properties)) }
        guard let stored = try session.storedRelationship(id) else { throw missing("relationship", id) }
        return try session.properties(stored.properties)
    }

    // MARK: Indexes

    func isIndexed(label: String, property: String) -> Bool {
        let key = label + "\u{0}" + property
        if let known = indexed[key] { return known }
        let answer =
            (try? {
                guard let labelID = try labelID(label), let keyID = try keyID(property) else { return false }
                return try session.indexDefinition(label: labelID, key: keyID) != nil
            }()) ?? false
        indexed[key] = answer
        return answer
    }

    func nodes(label: String, property: String, equalTo value: PropertyValue) throws -> any IteratorProtocol<NodeID> {
        try visible(session.nodes(label: label, property: property, equalTo: value, normalized: false)).makeIterator()
    }

    func nodes(label: String, property: String, from lower: PropertyBound?, to upper: PropertyBound?) throws
        -> any IteratorProtocol<NodeID>
    {
        let low = lower.flatMap { bound in GraphSession.indexElement(bound.value, normalized: false).map { ($0, bound.inclusive) } }
        let high = upper.flatMap { bound in GraphSession.indexElement(bound.value, normalized: false).map { ($0, bound.inclusive) } }
        if (lower != nil && low == nil) || (upper != nil && high == nil) { return EmptyIterator() }
        return try visible(session.nodes(label: label, property: property, lower: low, upper: high)).makeIterator()
    }

    private func missing(_ kind: String, _ id: UInt64) -> EngramError {
        EngramError(.notFound, "there is no \(kind) with internal id \(id) in tenant '\(session.tenantName)'")
    }
}

/// A walker that finds nothing (unknown types, empty tenant).
struct EmptyNeighbourWalker: NeighbourWalker {
    func forEach(of node: NodeID, _ body: (NodeID, RelationshipID) throws -> Void) throws {}
    func forEachRelationship(of node: NodeID, _ body: (RelationshipRecord) throws -> Void) throws {}
}

/// An iterator with nothing in it.
struct EmptyIterator<Element>: IteratorProtocol {
    mutating func next() -> Element? { nil }
}

/// Walks the keys under a list of prefixes with one cursor, turning each entry (key and value) into
/// an element (`nil` skips it).
final class KeyIterator<Element>: IteratorProtocol {
    private let cursor: Cursor
    private let prefixes: [[UInt8]]
    private var index = 0
    private var positioned = false
    private let transform: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Element?
    private let onError: (any Error) -> Void

    init(
        session: GraphSession, keyspace: Keyspace, prefixes: [[UInt8]], onError: @escaping (any Error) -> Void,
        transform: @escaping (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Element?
    ) throws {
        cursor = try session.txn.makeCursor(in: keyspace)
        self.prefixes = prefixes
        self.transform = transform
        self.onError = onError
    }

    func next() -> Element? {
        do {
            while index < prefixes.count {
                let entry = positioned ? try cursor.next() : try cursor.seek(atOrAfter: prefixes[index])
                positioned = true
                guard let (key, value) = entry,
                    prefixes[index].withUnsafeBytes({ prefix in
                        key.count >= prefix.count && memcmp(key.baseAddress!, prefix.baseAddress!, prefix.count) == 0
                    })
                else {
                    index += 1
                    positioned = false
                    continue
                }
                if let element = try transform(key, value) { return element }
            }
        } catch {
            onError(error)
            index = prefixes.count
        }
        return nil
    }
}
