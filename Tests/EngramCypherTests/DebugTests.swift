import EngramCore
import EngramCypher
import Foundation
import Testing

@Test func debugQuery() throws {
    guard let query = ProcessInfo.processInfo.environment["CYPHER_DEBUG_QUERY"] else { return }
    let graph = InMemoryGraph()
    let loader = FixtureLoader(graph: graph)
    if let setup = ProcessInfo.processInfo.environment["CYPHER_DEBUG_SETUP"] { try loader.run(setup) }
    let engine = CypherEngine(graph: graph)
    print(try Parser.parse(query))
    print(try engine.execute("EXPLAIN " + query).plan!)
    do {
        let result = try engine.execute((ProcessInfo.processInfo.environment["CYPHER_DEBUG_MODE"] ?? "PROFILE ") + query)
        print(result.plan ?? "")
        print(result.columns, result.rows.map { $0.map(\.description) })
    } catch { print("ERROR", error) }
}
