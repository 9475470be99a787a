import Engram
import EngramCore
import EngramStorage
import EngramTestSupport
import Foundation
import Testing

/// The relationships a test expects a tenant to hold, and the degrees they imply.
struct DegreeModel {
    struct Relationship {
        var from: String
        var to: String
        var type: String
    }

    /// Live relationships by public id.
    var relationships: [String: Relationship] = [:]

    /// How many relationships of `node` in `direction` have one of `types` (any when empty); for
    /// `.both` a self-loop counts once.
    func degree(of node: String, direction: GraphDirection, types: [String]) -> Int {
        relationships.values.filter { relationship in
            guard types.isEmpty || types.contains(relationship.type) else { return false }
            switch direction {
            case .outgoing: return relationship.from == node
            case .incoming: return relationship.to == node
            case .both: return relationship.from == node || relationship.to == node
            }
        }.count
    }

    /// The type lists every check asks about: all, one, two, one repeated, an unknown one.
    static let typeLists: [[String]] = [[], ["T"], ["T", "U"], ["U", "U"], ["NONE"], ["V", "NONE"]]

    /// The Cypher pattern of one hop from `a` in `direction` with `types`.
    static func pattern(_ direction: GraphDirection, _ types: [String]) -> String {
        let label = types.isEmpty ? "" : ":" + types.joined(separator: "|")
        switch direction {
        case .outgoing: return "(a)-[r\(label)]->(b)"
        case .incoming: return "(a)<-[r\(label)]-(b)"
        case .both: return "(a)-[r\(label)]-(b)"
        }
    }

    /// Checks, for every node of `nodes`, direction and type list, that ``Graph/degree(of:direction:types:)``
    /// and Cypher's `count(*)`, `count(r)` and `count(b)` over one hop (answered from the stored
    /// degrees) equal the model's count and the number of rows of the same `MATCH`.
    func expectStoreAgrees(_ store: EngramStore, tenant: String = "default", nodes: [String]) throws {
        let graph = store.graph(tenant: tenant)
        for node in nodes {
            for direction in GraphDirection.allCases {
                for types in Self.typeLists {
                    let expected = degree(of: node, direction: direction, types: types)
                    let context = "\(tenant) \(node) \(direction) \(types)"
                    #expect(try graph.degree(of: node, direction: direction, types: types) == expected, "\(context)")
                    let match = "MATCH \(Self.pattern(direction, types)) WHERE elementId(a) = $id RETURN "
                    let parameters: [String: PropertyValue] = ["id": .string(node)]
                    let rows = try store.query(match + "elementId(r)", parameters: parameters, tenant: tenant).rows
                        .count
                    #expect(rows == expected, "\(context)")
                    for counted in ["count(*)", "count(r)", "count(b)"] {
                        let result = try store.query(match + counted, parameters: parameters, tenant: tenant)
                        #expect(result.rows == [[.integer(Int64(expected))]], "\(context) \(counted)")
                    }
                }
            }
        }
    }
}

@Suite("Stored degrees")
struct DegreeTests {
    /// Random writes — nodes, relationships (self-loops among them), property replacements,
    /// relationship deletions, detaching node deletions — keep the degrees exact after every step.
    @Test(arguments: [UInt64(1), 2, 3])
    func degreesFollowEveryWrite(seed: UInt64) throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        let graph = store.graph()
        var generator = SeededGenerator(seed: seed)
        var model = DegreeModel()
        var nodes: [String] = []
        var serial = 0
        for round in 0..<4 {
            for _ in 0..<5 {
                let id = "n\(serial)"
                serial += 1
                try graph.createNode(id: id, labels: ["Thing"])
                nodes.append(id)
            }
            for _ in 0..<40 {
                let from = nodes[Int(generator.next() % UInt64(nodes.count))]
                let to = generator.next() % 8 == 0 ? from : nodes[Int(generator.next() % UInt64(nodes.count))]
                let type = ["T", "U", "V"][Int(generator.next() % 3)]
                let created = try graph.createRelationship(from: from, to: to, type: type, properties: ["w": 1])
                model.relationships[created.id] = .init(from: from, to: to, type: type)
            }
            let ids = model.relationships.keys.sorted()
            for id in ids where generator.next() % 4 == 0 {
                // Replacing properties rewrites both adjacency entries and must not count them again.
                try graph.updateRelationship(id: id, setting: ["w": .int(Int64(round))], removing: [])
            }
            for id in ids where generator.next() % 5 == 0 {
                try graph.deleteRelationship(id: id)
                model.relationships[id] = nil
            }
            let doomed = nodes.remove(at: Int(generator.next() % UInt64(nodes.count)))
            try graph.deleteNode(id: doomed, detach: true)
            model.relationships = model.relationships.filter { $0.value.from != doomed && $0.value.to != doomed }

            #expect(try store._checkGraphInvariants() == [], "round \(round)")
            try model.expectStoreAgrees(store, nodes: nodes)
        }
    }

    /// A bulk load counts degrees from its sorted adjacency: appended into a fresh tenant, added to
    /// the stored counts in batches after the first and in a load into a tenant that has data.
    @Test func bulkLoadCountsDegreesFreshAndIntoATenantWithData() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        var generator = SeededGenerator(seed: 11)
        var models: [String: DegreeModel] = [:]
        var made = 0
        func relationships(_ count: Int, among nodes: [String], tenant: String) -> [RelationshipImport] {
            (0..<count).map { _ in
                let from = nodes[Int(generator.next() % UInt64(nodes.count))]
                let to = generator.next() % 8 == 0 ? from : nodes[Int(generator.next() % UInt64(nodes.count))]
                let type = ["T", "U", "V"][Int(generator.next() % 3)]
                made += 1
                models[tenant, default: DegreeModel()].relationships["r\(made)"] = .init(from: from, to: to, type: type)
                return RelationshipImport(id: "r\(made)", from: from, to: to, type: type)
            }
        }
        let first = (0..<25).map { "n\($0)" }
        for tenant in ["alpha", "beta"] {
            // Batches of 37: the first appends, the later ones meet stored degrees of the same nodes.
            try store.graph(tenant: tenant).bulkLoad(
                nodes: first.map { NodeImport(id: $0, labels: ["Thing"]) },
                relationships: relationships(300, among: first, tenant: tenant), batchSize: 37)
        }
        #expect(try store._checkGraphInvariants() == [])
        for tenant in ["alpha", "beta"] { try models[tenant]!.expectStoreAgrees(store, tenant: tenant, nodes: first) }

        // A second load into a tenant with data: new nodes and relationships touching old ones.
        let second = (25..<35).map { "n\($0)" }
        try store.graph(tenant: "alpha").bulkLoad(
            nodes: second.map { NodeImport(id: $0, labels: ["Thing"]) },
            relationships: relationships(150, among: first + second, tenant: "alpha"))
        #expect(try store._checkGraphInvariants() == [])
        try models["alpha"]!.expectStoreAgrees(store, tenant: "alpha", nodes: first + second)
        try models["beta"]!.expectStoreAgrees(store, tenant: "beta", nodes: first)
    }

    /// Dropping a tenant drops its degrees and leaves the others' alone.
    @Test func droppingATenantDropsItsDegrees() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        var model = DegreeModel()
        for tenant in ["keep", "drop"] {
            let graph = store.graph(tenant: tenant)
            for index in 0..<4 { try graph.createNode(id: "n\(index)") }
            for (from, to, type) in [("n0", "n1", "T"), ("n0", "n0", "U"), ("n2", "n0", "T"), ("n0", "n1", "T")] {
                let created = try graph.createRelationship(from: from, to: to, type: type)
                if tenant == "keep" { model.relationships[created.id] = .init(from: from, to: to, type: type) }
            }
        }
        #expect(try store.dropTenant("drop"))
        #expect(try store._checkGraphInvariants() == [])
        try model.expectStoreAgrees(store, tenant: "keep", nodes: ["n0", "n1", "n2", "n3"])
        // The tenant made again starts from nothing.
        let again = store.graph(tenant: "drop")
        try again.createNode(id: "n0")
        #expect(try again.degree(of: "n0") == 0)
        #expect(try store.query("MATCH (a)-[]-() RETURN count(*)", tenant: "drop").rows == [[.integer(0)]])
        #expect(try store._checkGraphInvariants() == [])
    }

    /// Merging entities moves relationships (deleted from the source, created on the target), and
    /// unmerging moves them back: the degrees follow both ways.
    @Test func mergeAndUnmergeMoveDegrees() async throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        var options = MemoryOptions()
        options.resolution.isEnabled = false
        let memory = store.context(user: "alice", options: options)
        let target = try await memory.addEntity(name: "Jonathan Smith", type: "Person")
        let source = try await memory.addEntity(name: "J. Smith", type: "Person")
        let acme = try await memory.addEntity(name: "Acme", type: "Organization")
        let bob = try await memory.addEntity(name: "Bob", type: "Person")
        try memory.relate(target.id, "WORKS_AT", acme.id)
        try memory.relate(source.id, "WORKS_AT", acme.id)
        try memory.relate(source.id, "KNOWS", bob.id)
        try memory.relate(bob.id, "MANAGES", source.id)
        try memory.relate(source.id, "SIBLING_OF", target.id)
        let entities = [target.id, source.id, acme.id, bob.id]

        /// Every entity's counts over one hop equal the rows of the same match.
        func expectCountsEqualRows(_ stage: String) throws {
            #expect(try store._checkGraphInvariants() == [], "\(stage)")
            for id in entities {
                for pattern in ["(a)-[r]->(b)", "(a)<-[r]-(b)", "(a)-[r]-(b)", "(a)-[r:WORKS_AT|KNOWS]-(b)"] {
                    let match = "MATCH \(pattern) WHERE elementId(a) = $id RETURN "
                    let rows = try store.query(match + "r", parameters: ["id": .string(id)]).rows.count
                    let counted = try store.query(match + "count(*)", parameters: ["id": .string(id)]).rows
                    #expect(counted == [[.integer(Int64(rows))]], "\(stage) \(id) \(pattern)")
                }
                let walked = try store.graph().relationships(of: id, direction: .both).count
                #expect(try store.graph().degree(of: id, direction: .both) == walked, "\(stage) \(id)")
            }
        }
        try expectCountsEqualRows("before")
        let before = try store.graph().degree(of: target.id)
        _ = try memory.merge(source.id, into: target.id)
        try expectCountsEqualRows("merged")
        #expect(try store.graph().degree(of: target.id) > before)
        _ = try memory.unmerge(source.id)
        try expectCountsEqualRows("unmerged")
        #expect(try store.graph().degree(of: target.id) == before)
    }

    /// Runs `body` on the `degrees` keyspace of the (closed) store at `path`, through a bare
    /// environment: how a test writes what no Engram code would.
    static func withDegrees(_ path: String, _ body: (Transaction, Keyspace) throws -> Void) throws {
        let environment = try StorageEnvironment.open(at: path, keyspaces: [KeyspaceDescriptor("degrees")])
        let degrees = try environment.keyspace("degrees")
        try environment.write { txn in try body(txn, degrees) }
    }

    /// A store of four nodes in the default tenant: n0 → n1 (T), n0 → n1 (U), n0 → n0 (T),
    /// n2 → n0 (T); n3 alone. Returns its path and the stored outgoing degrees of n0.
    static func smallStore(_ directory: TemporaryDirectory) throws -> (path: String, degrees: [UInt8]) {
        let path = directory.appending("store")
        do {
            let store = try EngramStore(path: path)
            let graph = store.graph()
            for index in 0..<4 { try graph.createNode(id: "n\(index)") }
            for (from, to, type) in [("n0", "n1", "T"), ("n0", "n1", "U"), ("n0", "n0", "T"), ("n2", "n0", "T")] {
                try graph.createRelationship(from: from, to: to, type: type)
            }
            #expect(try store._checkGraphInvariants() == [])
        }
        var degrees: [UInt8] = []
        try withDegrees(path) { txn, keyspace in
            degrees = try #require(try txn.value(forKey: degreesKey(node: 1), in: keyspace))
        }
        #expect(degrees.count == 6 && degrees[0] == 1 && degrees[1] == 2)  // T × 2, U × 1
        return (path, degrees)
    }

    /// The `degrees` key of an outgoing side in the default tenant of ``smallStore(_:)``: it is the
    /// store's first tenant (id 1), and n0 … n3 are nodes 1 … 4.
    static func degreesKey(node: UInt64) -> [UInt8] {
        var writer = KeyWriter()
        writer.append(UInt32(1))
        writer.append(node)
        writer.append(UInt8(0))
        return writer.bytes
    }

    /// Values that are no stored degree: empty, truncated, another layout version, no pair, a
    /// count of 0, a repeated type, types out of order, trailing bytes, a count beyond 64 bits.
    static let undecodableDegrees: [[UInt8]] = [
        [], [1], [2, 1, 1, 1], [1, 0], [1, 1, 5], [1, 1, 5, 0], [1, 2, 5, 1, 5, 1], [1, 2, 6, 1, 5, 1],
        [1, 1, 5, 1, 0], [1, 1, 5] + [UInt8](repeating: 0xFF, count: 10) + [1],
    ]

    /// The checker reports a wrong count, a missing entry, an entry for a node without such
    /// relationships, and values that do not decode (without trapping), then nothing once the
    /// value is put back.
    @Test func theCheckerCatchesAWrongStoredDegree() throws {
        let directory = try TemporaryDirectory(prefix: "engram-degrees")
        let (path, original) = try Self.smallStore(directory)
        var wrong = original
        wrong[wrong.count - 1] += 1
        var generator = SeededGenerator(seed: 99)
        let random = (0..<20).map { _ in
            (0..<Int(generator.next() % 12)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }
        var cases: [(node: UInt64, value: [UInt8]?, problem: String?)] = [
            (1, wrong, "adjacency counts"), (1, nil, "missing"), (4, original, "adjacency has no such relationship"),
        ]
        cases += Self.undecodableDegrees.map { (1, $0, "do not decode") }
        cases += random.map { (1, $0, nil) }
        for (node, value, problem) in cases {
            try Self.withDegrees(path) { txn, degrees in
                if let value {
                    try txn.put(value, forKey: Self.degreesKey(node: node), in: degrees)
                } else {
                    try txn.delete(Self.degreesKey(node: node), in: degrees)
                }
            }
            do {
                let problems = try EngramStore(path: path)._checkGraphInvariants()
                #expect(!problems.isEmpty, "\(String(describing: value))")
                if let problem { #expect(problems.contains { $0.contains(problem) }, "\(problems)") }
            }
            try Self.withDegrees(path) { txn, degrees in
                try txn.delete(Self.degreesKey(node: 4), in: degrees)
                try txn.put(original, forKey: Self.degreesKey(node: 1), in: degrees)
            }
        }
        #expect(try EngramStore(path: path)._checkGraphInvariants() == [])
    }
}
