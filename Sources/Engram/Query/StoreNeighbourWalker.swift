import EngramCypher
import EngramStorage
import Foundation

/// Walks adjacency keys (`t n d T m r`) node after node with one cursor, yielding `(m, r)` without
/// building relationship records or type names (what counting over expansions needs), or the
/// records (what a fused expansion binds).
final class StoreNeighbourWalker: NeighbourWalker {
    private let graph: StoreCypherGraph
    private let cursor: Cursor
    private let tenant: UInt32
    private let direction: ExpandDirection
    /// `nil`: any type; otherwise the known type ids (unknown names dropped, repeats kept once).
    private let typeIDs: [UInt32]?
    /// The prefix being walked, rewritten per node and direction: `t n d` (+ `T`).
    private var prefix: [UInt8]

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
        self.tenant = tenant
        self.direction = direction
        cursor = try session.txn.makeCursor(in: session.keyspaces.adjacency)
        prefix = []
        prefix.reserveCapacity(17)
    }

    func forEach(of node: NodeID, _ body: (NodeID, RelationshipID) throws -> Void) throws {
        if direction != .incoming { try walk(node, GraphKey.outgoing) { other, relationship, _, _ in try body(other, relationship) } }
        if direction != .outgoing { try walk(node, GraphKey.incoming) { other, relationship, _, _ in try body(other, relationship) } }
    }

    /// The type id and name met last: a node's relationships come grouped by type.
    private var lastType = UInt32.max
    private var lastTypeName = ""

    func forEachRelationship(of node: NodeID, _ body: (RelationshipRecord) throws -> Void) throws {
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
                graph.noteAdjacency(relationship, properties)
                try body(record(other, relationship, type, outgoing: true))
            }
        }
        if direction != .outgoing {
            try walk(node, GraphKey.incoming) { other, relationship, type, properties in
                graph.noteAdjacency(relationship, properties)
                try body(record(other, relationship, type, outgoing: false))
            }
        }
    }

    /// Calls `body(other end, relationship, type, adjacency value)` per entry of `node` on `side`.
    private func walk(
        _ node: NodeID, _ side: UInt8, _ body: (NodeID, RelationshipID, UInt32, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        for type in typeIDs.map({ $0.map(Optional.some) }) ?? [nil] {
            // `t n d` (+ `T`) written over the reused buffer: no allocation per node.
            prefix.removeAll(keepingCapacity: true)
            Self.append(UInt64(tenant), bytes: 4, to: &prefix)
            Self.append(node, bytes: 8, to: &prefix)
            prefix.append(side)
            if let type { Self.append(UInt64(type), bytes: 4, to: &prefix) }
            var entry = try cursor.seek(atOrAfter: prefix)
            try prefix.withUnsafeBytes { prefix in
                while let (key, value) = entry, key.count == 33, memcmp(key.baseAddress!, prefix.baseAddress!, prefix.count) == 0 {
                    let other = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 17, as: UInt64.self))
                    // A self-loop is reported once, when walking both ways: on its outgoing side.
                    if !(side == GraphKey.incoming && direction == .both && other == node), try !graph.isHidden(other) {
                        try body(
                            other, UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 25, as: UInt64.self)),
                            UInt32(bigEndian: key.loadUnaligned(fromByteOffset: 13, as: UInt32.self)), value)
                    }
                    entry = try cursor.next()
                }
            }
        }
    }

    @inline(__always)
    private static func append(_ value: UInt64, bytes: Int, to buffer: inout [UInt8]) {
        for index in stride(from: bytes - 1, through: 0, by: -1) { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}
