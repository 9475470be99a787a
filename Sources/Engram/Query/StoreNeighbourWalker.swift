import EngramCypher
import EngramStorage
import Foundation

/// Walks adjacency keys (`t n d T m r`) node after node with one cursor, yielding `(m, r)` without
/// building relationship records or type names (what counting over expansions needs), or the
/// records (what a fused expansion binds).
final class StoreNeighbourWalker: NeighbourWalker {
    private let graph: StoreCypherGraph
    /// The graph's adjacency cache, noted here directly (no reference taken per entry).
    private let adjacency: UnsafeMutablePointer<AdjacencyCache>?
    /// Whether the graph hides some nodes (expired records), which the walk must skip.
    private let hides: Bool
    private let cursor: Cursor
    private let tenant: UInt32
    private let direction: ExpandDirection
    /// `nil`: any type; otherwise the known type ids (unknown names dropped, repeats kept once).
    private let typeIDs: [UInt32]?
    /// The type ids walked in turn: `[nil]` for any type.
    private let walkedTypes: [UInt32?]

    /// `nil` when nothing can match (no tenant, or none of `types` exists).
    init?(graph: StoreCypherGraph, direction: ExpandDirection, types: [String]) throws {
        let session = graph.session
        guard let tenant = session.tenant else { return nil }
        if types.isEmpty {
            typeIDs = nil
        } else {
            var known: [UInt32] = []
            for type in types {
                if let id = try session.symbol(.relationshipType, type, create: false), !known.contains(id) {
                    known.append(id)
                }
            }
            if known.isEmpty { return nil }
            typeIDs = known
        }
        self.graph = graph
        adjacency = graph.adjacency
        hides = graph.expired != nil
        self.tenant = tenant
        self.direction = direction
        cursor = try session.txn.makeCursor(in: session.keyspaces.adjacency)
        walkedTypes = typeIDs.map { $0.map(Optional.some) } ?? [nil]
    }

    func forEach(of node: NodeID, _ body: (NodeID, RelationshipID) throws -> Void) throws {
        if direction != .incoming { try walk(node, GraphKey.outgoing) { other, relationship, _, _ in try body(other, relationship) } }
        if direction != .outgoing { try walk(node, GraphKey.incoming) { other, relationship, _, _ in try body(other, relationship) } }
    }

    /// The type id and name met last: a node's relationships come grouped by type.
    private var lastType = UInt32.max
    private var lastTypeName = ""

    func forEachRelationship(of node: NodeID, _ body: (RelationshipRecord) throws -> Void) throws {
        // The last type met, in locals for the walk (a stored property would be checked for
        // exclusive access per entry).
        var (lastType, lastTypeName) = (self.lastType, self.lastTypeName)
        defer { (self.lastType, self.lastTypeName) = (lastType, lastTypeName) }
        let (graph, adjacency) = (self.graph, self.adjacency)
        func record(_ other: NodeID, _ relationship: RelationshipID, _ type: UInt32, outgoing: Bool) throws -> RelationshipRecord {
            if type != lastType {
                lastTypeName = try graph.typeName(type)
                lastType = type
            }
            return outgoing
                ? RelationshipRecord(id: relationship, type: lastTypeName, start: node, end: other)
                : RelationshipRecord(id: relationship, type: lastTypeName, start: other, end: node)
        }
        if direction != .incoming {
            try walk(node, GraphKey.outgoing) { other, relationship, type, properties in
                adjacency?.pointee.note(relationship, properties)
                try body(record(other, relationship, type, outgoing: true))
            }
        }
        if direction != .outgoing {
            try walk(node, GraphKey.incoming) { other, relationship, type, properties in
                adjacency?.pointee.note(relationship, properties)
                try body(record(other, relationship, type, outgoing: false))
            }
        }
    }

    /// Calls `body(other end, relationship, type, adjacency value)` per entry of `node` on `side`.
    private func walk(
        _ node: NodeID, _ side: UInt8, _ body: (NodeID, RelationshipID, UInt32, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        for type in walkedTypes {
            // `t n d` (+ `T`), built on the stack: no allocation per node.
            var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let length = type == nil ? 13 : 17
            withUnsafeMutableBytes(of: &buffer) { raw in
                raw.storeBytes(of: tenant.bigEndian, toByteOffset: 0, as: UInt32.self)
                raw.storeBytes(of: node.bigEndian, toByteOffset: 4, as: UInt64.self)
                raw.storeBytes(of: side, toByteOffset: 12, as: UInt8.self)
                if let type { raw.storeBytes(of: type.bigEndian, toByteOffset: 13, as: UInt32.self) }
            }
            // The prefix compared per entry as loads rather than a `memcmp` call: the first 8 and
            // the next 4 bytes (`t n`), the direction byte, and the type when there is one.
            let (head, middle, typeWord) = withUnsafeBytes(of: buffer) {
                ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self),
                 $0.loadUnaligned(fromByteOffset: 13, as: UInt32.self))
            }
            let typed = type != nil
            let skipsSelfLoops = side == GraphKey.incoming && direction == .both
            var entry = try withUnsafeBytes(of: buffer) { try cursor.seek(atOrAfter: UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            while let (key, value) = entry, key.count == 33, key.loadUnaligned(as: UInt64.self) == head,
                key.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == middle, key[12] == side,
                !typed || key.loadUnaligned(fromByteOffset: 13, as: UInt32.self) == typeWord
            {
                let other = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 17, as: UInt64.self))
                // A self-loop is reported once, when walking both ways: on its outgoing side.
                if !(skipsSelfLoops && other == node), try !hides || !graph.isHidden(other) {
                    try body(
                        other, UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 25, as: UInt64.self)),
                        UInt32(bigEndian: key.loadUnaligned(fromByteOffset: 13, as: UInt32.self)), value)
                }
                entry = try cursor.next()
            }
        }
    }

}
