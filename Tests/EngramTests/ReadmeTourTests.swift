import Engram
import EngramTestSupport
import Foundation
import Testing

/// The README tour, verbatim but for the store path, so that the README cannot drift from the API.
@Suite("README tour") struct ReadmeTourTests {
    @Test func theTourRuns() async throws {
        let directory = try TemporaryDirectory(prefix: "engram-readme")

        let store = try EngramStore(path: directory.appending("agent-memory"))        // created when missing
        let graph = store.graph(tenant: "acme")                   // tenants are part of every key

        try graph.createIndex(label: "Person", property: "name", normalized: true)
        let ada = try graph.createNode(id: "ada", labels: ["Person"], properties: ["name": "Ada Lovelace"])
        try graph.createNode(id: "engines", labels: ["Organization"], properties: ["name": "Analytical Engines"])
        try graph.createRelationship(from: "ada", to: "engines", type: "WORKS_AT", properties: ["since": 1842])

        let employers = try graph.neighbors(of: ada.id, direction: .outgoing, types: ["WORKS_AT"])
        let found = try graph.nodes(label: "Person", property: "name", equalTo: "ada lovelace", normalized: true)

        // Agent memory on the same store: scoped contexts, conversations, facts that supersede each other.
        let memory = store.context(tenant: "acme", user: "alice", agent: "travel-bot")
        let trip = try memory.startConversation(title: "Trip to Lisbon")
        try await memory.addMessage(to: trip.id, role: .user, content: "My budget is 400 euros.")
        let budget = try await memory.remember(NewMemory("Alice's budget is 400 euros", kind: .fact))
        try await memory.supersede(budget.id, with: NewMemory("Alice's budget is 600 euros", kind: .fact))

        let result = try store.query(
            "MATCH (p:Person)-[w:WORKS_AT]->(o) WHERE w.since < $year RETURN p.name, o.name",
            parameters: ["year": 1900], tenant: "acme")
        print(result.tableString())

        do {
            _ = try store.query("MATCH (n) DETACH DELETE n", tenant: "acme")
        } catch let error as CypherError {
            print(error)                                          // readOnlyQuery: writes are refused
        }
        #expect(employers.map(\.node.id) == ["engines"])
        #expect(found.map(\.id) == ["ada"])
        #expect(result.rows.count == 1)
    }
}
