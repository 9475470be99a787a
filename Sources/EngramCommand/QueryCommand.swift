import ArgumentParser
import Engram
import EngramREPL
import Foundation

/// `engram query`: one read-only Cypher query against a store.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a read-only Cypher query and print its rows.",
        discussion: """
            Example: engram query --db memory.engram --param name=Ada \
            "MATCH (p:Person {name: \\$name})-[:KNOWS]->(f) RETURN f.name"
            Parameters are read as JSON when they parse as JSON (numbers, true/false, null, "strings", \
            lists, maps), and as plain strings otherwise. '-' as the query reads it from standard input. \
            Tables show values as Neo4j's cypher-shell does and cut cells longer than 60 characters \
            (--wide shows them whole); --format json prints {"columns": [...], "rows": [[...]]}.
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(name: .customLong("param"), help: "A parameter as name=value (repeatable).") var parameters: [String] = []
    @Option(help: "Stop the query after this many seconds.") var timeout = 30.0
    @Argument(help: "The Cypher query ('-': read it from standard input).") var query: String

    func validate() throws {
        for parameter in parameters where !parameter.contains("=") {
            throw ValidationError("--param needs name=value, not '\(parameter)'")
        }
        if !(timeout > 0) { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        var values: [String: PropertyValue] = [:]
        for parameter in parameters {
            let equals = parameter.firstIndex(of: "=")!
            values[String(parameter[..<equals])] = Self.parse(String(parameter[parameter.index(after: equals)...]))
        }
        let text = query == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : query
        let opened = try store.open()
        let result: CypherResult
        do {
            result = try opened.query(
                text, parameters: values, tenant: store.session.tenant, limits: CypherLimits(timeout: .seconds(timeout)))
        } catch let error as CypherError {
            printDiagnostic(REPLErrorText.render(error, in: text))
            throw ExitCode.failure
        }
        printResult(result, store.session)
    }

    /// A parameter value: JSON when it parses as JSON, else the text itself.
    static func parse(_ text: String) -> PropertyValue {
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: break
        }
        if let integer = Int64(text) { return .int(integer) }
        if let number = Double(text), text.first.map({ $0.isNumber || $0 == "-" || $0 == "." }) == true { return .double(number) }
        guard text.first == "[" || text.first == "{" || text.first == "\"", let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        else { return .string(text) }
        return propertyValue(object)
    }

    static func propertyValue(_ object: Any) -> PropertyValue {
        switch object {
        case let number as NSNumber:
            let type = String(cString: number.objCType)
            if type == "c" || type == "B" { return .bool(number.boolValue) }
            if let exact = Int64(exactly: number.doubleValue), !"\(number)".contains(".") { return .int(exact) }
            return .double(number.doubleValue)
        case let text as String: return .string(text)
        case let list as [Any]: return .list(list.map(propertyValue))
        case let map as [String: Any]: return .map(map.mapValues(propertyValue))
        default: return .null
        }
    }
}
