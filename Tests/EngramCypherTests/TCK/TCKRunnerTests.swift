import Engram
import EngramCore
import EngramCypher
import EngramTestSupport
import Foundation
import Testing

/// Runs the openCypher TCK subset (`../shared/tck`) against the in-memory graph and against the
/// LMDB store, with the same scenarios and comparison rules; each run has its own committed floor.
@Suite("openCypher TCK subset")
struct TCKRunnerTests {
    struct Outcome {
        var feature: String
        var scenario: String
        var line: Int
        var failure: String?
    }

    struct SubsetEntry: Decodable {
        var line: Int
        var name: String
        var status: String
        var kind: String
        var excluded_example_rows: [Int]?
    }

    struct Subset: Decodable {
        var files: [String: [SubsetEntry]]
    }

    static func floorFile(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(name)
    }

    @Test("TCK pass count on the in-memory graph does not drop below the committed floor")
    func runSubsetInMemory() throws {
        try Self.runSubset(backend: InMemoryTCKBackend(), title: "TCK", floorFile: "tck-floor.txt")
    }

    @Test("TCK pass count on the LMDB store does not drop below the committed floor")
    func runSubsetOnStore() throws {
        let directory = try TemporaryDirectory(prefix: "tck-store")
        var configuration = EngramStore.Configuration()
        configuration.durability = .noSync
        let store = try EngramStore(path: directory.path, configuration: configuration)
        try Self.runSubset(
            backend: StoreTCKBackend(store: store), title: "TCK (store)", floorFile: "tck-store-floor.txt")
    }

    static func runSubset(backend: some TCKBackend, title: String, floorFile: String) throws {
        let tck = sharedFolder().appendingPathComponent("tck")
        let subsetData = try Data(contentsOf: tck.appendingPathComponent("subset.json"))
        let subset = try JSONDecoder().decode(Subset.self, from: subsetData)
        var outcomes: [Outcome] = []
        var casesRun = 0
        var casesFailed = 0
        for file in subset.files.keys.sorted() {
            let entries = subset.files[file]!.filter { $0.status == "IN" || $0.status == "PARTIAL" }
            guard !entries.isEmpty else { continue }
            let text = try String(
                contentsOf: tck.appendingPathComponent("features").appendingPathComponent(file),
                encoding: .utf8)
            let feature = GherkinFeature(parsing: text)
            for entry in entries {
                guard let scenario = feature.scenarios.first(where: { $0.line == entry.line }) else {
                    outcomes.append(
                        Outcome(
                            feature: file, scenario: entry.name, line: entry.line,
                            failure: "scenario not found at line \(entry.line)"))
                    continue
                }
                let excluded = Set(entry.excluded_example_rows ?? [])
                var failure: String? = nil
                if scenario.isOutline {
                    for example in scenario.examples where !excluded.contains(example.line) {
                        casesRun += 1
                        if let problem = run(scenario, feature.background, example.values, tck, backend) {
                            casesFailed += 1
                            failure = failure ?? "example at line \(example.line): \(problem)"
                        }
                    }
                } else {
                    casesRun += 1
                    failure = run(scenario, feature.background, [:], tck, backend)
                    if failure != nil { casesFailed += 1 }
                }
                outcomes.append(Outcome(feature: file, scenario: entry.name, line: entry.line, failure: failure))
            }
        }
        let failed = outcomes.filter { $0.failure != nil }
        var report: [String] = []
        var lastFeature = ""
        for outcome in failed {
            if outcome.feature != lastFeature {
                report.append("== \(outcome.feature)")
                lastFeature = outcome.feature
            }
            report.append("  \(outcome.scenario) (line \(outcome.line)): \(outcome.failure!)")
        }
        let passed = outcomes.count - failed.count
        report.append("\(title) cases (outline rows expanded): \(casesRun - casesFailed) passed, \(casesFailed) failed")
        report.append("\(title): \(passed) passed, \(failed.count) failed")
        print(report.joined(separator: "\n"))
        let floorText = (try? String(contentsOf: Self.floorFile(floorFile), encoding: .utf8)) ?? "0"
        let floor = Int(floorText.trimmingWhitespace()) ?? 0
        #expect(passed >= floor, "\(title) pass count \(passed) fell below the committed floor \(floor)")
    }

    /// Checks the error's category and phase against `a <Type> should be raised at <phase>: <Detail>`.
    /// The detail is informational (HARNESS.md), so only type and phase must agree.
    static func errorMismatch(_ step: String, _ error: CypherError) -> String? {
        let words = step.split(separator: " ").map(String.init)
        guard words.count > 1 else { return nil }
        let type = words[1]
        let compileTime = step.contains("compile time")
        let runtime = step.contains("at runtime")
        let typeMatches: Bool
        switch type {
        case "SyntaxError": typeMatches = error.isCompileTime
        case "TypeError": typeMatches = error.code == .typeError || error.detail == "InvalidArgumentType"
        case "ArgumentError": typeMatches = error.code == .argumentError
        case "ArithmeticError": typeMatches = error.code == .arithmeticError
        default: typeMatches = true
        }
        // The detail is the strongest signal: a matching detail settles the type.
        if let detail = error.detail, step.hasSuffix(": " + detail) { return nil }
        if !typeMatches { return "expected \(type) but got \(error)" }
        if compileTime && !error.isCompileTime { return "expected a compile-time error but got \(error)" }
        if runtime && error.isCompileTime && type != "TypeError" { return "expected a runtime error but got \(error)" }
        return nil
    }

    static func substitute(_ text: String, _ values: [String: String]) -> String {
        var result = text
        for (key, value) in values { result = result.replacing("<\(key)>", with: value) }
        return result
    }

    /// Runs one concrete scenario; returns a failure description, or `nil` when it passed.
    static func run(
        _ scenario: GherkinScenario, _ background: [GherkinStep], _ values: [String: String], _ tck: URL,
        _ backend: some TCKBackend
    ) -> String? {
        let graph: any TCKGraph
        do {
            graph = try backend.makeGraph()
        } catch {
            return "could not make a graph: \(error)"
        }
        defer { graph.discard() }
        var parameters: [String: PropertyValue] = [:]
        var result: Result<CypherResult, CypherError>? = nil
        for step in background + scenario.steps {
            let text = substitute(step.text, values)
            let docString = step.docString.map { substitute($0, values) }
            do {
                if text.hasPrefix("the ") && text.hasSuffix(" graph") {
                    let name = String(text.dropFirst(4).dropLast(6))
                    let script = try String(
                        contentsOf: tck.appendingPathComponent("graphs/\(name)/\(name).cypher"),
                        encoding: .utf8)
                    for statement in script.split(separator: ";")
                    where !String(statement).trimmingWhitespace().isEmpty {
                        try graph.runFixture(String(statement))
                    }
                } else if text.hasPrefix("having executed") {
                    try graph.runFixture(docString ?? "")
                } else if text.hasPrefix("parameters are") {
                    for row in step.table ?? [] where row.count >= 2 {
                        parameters[row[0]] = try TCKValueParser.parse(substitute(row[1], values)).propertyValue
                    }
                } else if text.hasPrefix("executing query") {
                    do {
                        result = .success(try graph.query(docString ?? "", parameters: parameters))
                    } catch let error as CypherError {
                        result = .failure(error)
                    } catch {
                        return "query failed outside Cypher: \(error)"
                    }
                } else if text.hasPrefix("the result should be") {
                    guard let result else { return "no query ran" }
                    let actual: CypherResult
                    switch result {
                    case .failure(let error): return "unexpected error: \(error)"
                    case .success(let value): actual = value
                    }
                    let table = (step.table ?? []).map { $0.map { substitute($0, values) } }
                    let header = table.first ?? []
                    if text.hasSuffix("empty") {
                        if !actual.rows.isEmpty { return "expected no rows, got \(actual.rows.count)" }
                        continue
                    }
                    if header != actual.columns {
                        return "columns \(actual.columns) != expected \(header)"
                    }
                    let expected = try table.dropFirst().map { try $0.map(TCKValueParser.parse) }
                    let got = actual.rows.map { $0.map(TCKValue.init) }
                    let ordered = text.contains("in order")
                    let unorderedLists = text.contains("ignoring element order for lists")
                    if !TCKValue.rowsMatch(got, expected, ordered: ordered, unorderedLists: unorderedLists) {
                        func show(_ rows: [[TCKValue]]) -> String {
                            rows.prefix(8).map { "[" + $0.map(\.description).joined(separator: ", ") + "]" }
                                .joined(separator: " ") + (rows.count > 8 ? " …(\(rows.count) rows)" : "")
                        }
                        return "rows differ: got \(show(got)) expected \(show(expected))"
                    }
                } else if text.hasPrefix("a ") && text.contains("should be raised") {
                    guard let result else { return "no query ran" }
                    switch result {
                    case .success(let value):
                        return "expected \(text) but got \(value.rows.count) rows"
                    case .failure(let error):
                        if let problem = errorMismatch(text, error) { return problem }
                    }
                }
            } catch {
                return "step '\(text)' failed: \(error)"
            }
        }
        return nil
    }
}
