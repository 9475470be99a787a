import ArgumentParser
import Engram
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
            lists, maps), and as plain strings otherwise.
            """
    )

    @Option(help: "Store directory.") var db: String
    @Option(help: "Tenant whose graph the query reads.") var tenant = "default"
    @Option(name: .customLong("param"), help: "A parameter as name=value (repeatable).") var parameters: [String] = []
    @Option(help: "Output format: table, json or csv.") var format: OutputFormat = .table
    @Argument(help: "The Cypher query.") var query: String

    func run() throws {
        var values: [String: PropertyValue] = [:]
        for parameter in parameters {
            guard let equals = parameter.firstIndex(of: "=") else {
                throw ValidationError("--param needs name=value, not '\(parameter)'")
            }
            values[String(parameter[..<equals])] = Self.parse(String(parameter[parameter.index(after: equals)...]))
        }
        var configuration = EngramStore.Configuration()
        configuration.createIfMissing = false
        let store = try EngramStore(path: db, configuration: configuration)
        let result = try store.query(query, parameters: values, tenant: tenant)
        switch format {
        case .json: print(result.jsonString())
        case .table:
            if let plan = result.plan { print(plan) }
            if !result.columns.isEmpty { print(result.tableString()) }
        case .csv:
            print(result.columns.map(Self.csvField).joined(separator: ","))
            for row in result.rows { print(row.map { Self.csvField($0.csvText) }.joined(separator: ",")) }
        }
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

    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

extension CypherValue {
    /// The value as one CSV cell: strings bare, everything else in its Cypher-literal form.
    var csvText: String {
        if case .string(let text) = self { return text }
        if case .null = self { return "" }
        return description
    }
}
