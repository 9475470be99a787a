import EngramCypher
public import Engram
import Foundation

/// How the REPL and the one-shot commands print results.
public enum ResultFormat: String, Sendable, Hashable, CaseIterable {
    /// Aligned columns, values as Neo4j's cypher-shell writes them, a row count.
    case table
    /// One JSON document per result: `{"columns": [...], "rows": [[...]]}` (SPEC §6).
    case json
    /// RFC 4180 CSV with a header row.
    case csv
}

/// Renders query results as text, in the three formats of ``ResultFormat``.
///
/// In a table, values are written as cypher-shell writes them: strings in double quotes, `NULL`,
/// nodes as `(:Person {name: "Ann"})`, relationships as `[:KNOWS {since: 2020}]`, paths as
/// `(:A)-[:R]->(:B)`; map and property keys are sorted. Cells longer than
/// ``maximumCellWidth`` are cut and end with `…`.
public struct ResultRenderer: Sendable, Hashable {
    /// The format.
    public var format: ResultFormat
    /// The most characters a table cell shows, or `nil` to show every cell whole (`--wide`).
    public var maximumCellWidth: Int?

    /// The default cell width of a table (60 characters).
    public static let defaultCellWidth = 60

    /// Creates a renderer.
    public init(format: ResultFormat = .table, maximumCellWidth: Int? = ResultRenderer.defaultCellWidth) {
        self.format = format
        self.maximumCellWidth = maximumCellWidth
    }

    /// The whole result as text, without a final newline. A table ends with the row count (and,
    /// when `elapsed` is given, the time); JSON is one line, with a `"plan"` member for `EXPLAIN`
    /// and `PROFILE`; CSV has its header row (and no plan).
    ///
    /// With `bareStrings`, a table writes strings without quotes (for reports such as `:stats`,
    /// whose strings are names, not values).
    public func render(_ result: CypherResult, elapsed: Duration? = nil, bareStrings: Bool = false) -> String {
        switch format {
        case .json:
            var json = result.jsonString()
            if let plan = result.plan {
                json.removeLast()
                json += ",\"plan\":" + Self.jsonQuote(plan) + "}"
            }
            return json
        case .csv:
            var csv = result.csvString()
            while csv.last?.isNewline == true { csv.removeLast() }
            return csv
        case .table:
            var parts: [String] = []
            // EXPLAIN: a plan and no rows; PROFILE's plan carries rows and time per operator.
            let isExplain = result.rows.isEmpty && result.plan.map { !$0.contains("{rows: ") } == true
            if !result.columns.isEmpty && !isExplain { parts.append(table(result, bareStrings: bareStrings)) }
            if let plan = result.plan { parts.append(plan) }
            if !isExplain {
                var footer = "\(result.rows.count) row\(result.rows.count == 1 ? "" : "s")"
                if let elapsed { footer += " (\(Self.format(elapsed)))" }
                parts.append(footer)
            } else if let elapsed {
                parts.append("planned in \(Self.format(elapsed))")
            }
            return parts.joined(separator: "\n")
        }
    }

    /// The columns and rows as an aligned table, without the row count.
    public func table(_ result: CypherResult, bareStrings: Bool = false) -> String {
        table(
            columns: result.columns,
            rows: result.rows.map { row in
                row.map { value in
                    if bareStrings, case .string(let text) = value { return text }
                    return Self.shellText(value)
                }
            })
    }

    /// An aligned table of text cells (cut to ``maximumCellWidth``).
    public func table(columns: [String], rows: [[String]]) -> String {
        let header = columns.map(cut)
        let cells = rows.map { $0.map(cut) }
        var widths = header.map(\.count)
        for row in cells {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        let rule = "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+"
        func line(_ values: [String]) -> String {
            "|" + zip(values, widths).map { " " + $0 + String(repeating: " ", count: $1 - $0.count) + " " }
                .joined(separator: "|") + "|"
        }
        var lines = [rule, line(header), rule]
        lines += cells.map(line)
        if !cells.isEmpty { lines.append(rule) }
        return lines.joined(separator: "\n")
    }

    private func cut(_ text: String) -> String {
        guard let limit = maximumCellWidth, text.count > limit else { return text }
        return String(text.prefix(max(limit - 1, 0))) + "…"
    }

    // MARK: Values

    /// A value as cypher-shell writes it: `"text"`, `NULL`, `[1, 2]`, `{k: 1}`,
    /// `(:Label {k: 1})`, `[:TYPE {k: 1}]`, `(:A)-[:R]->(:B)`.
    public static func shellText(_ value: CypherValue) -> String {
        switch value {
        case .null: return "NULL"
        case .boolean(let flag): return flag ? "TRUE" : "FALSE"
        case .integer(let number): return String(number)
        case .float(let number):
            if number.isNaN { return "NaN" }
            if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
            return String(number)
        case .string(let text): return quote(text)
        case .bytes(let bytes): return "bytes(\(bytes.count))"
        case .list(let items): return "[" + items.map(shellText).joined(separator: ", ") + "]"
        case .map(let entries): return map(entries)
        case .node(let node): return shellText(node)
        case .relationship(let relationship): return shellText(relationship)
        case .path(let path):
            guard let first = path.nodes.first else { return "()" }
            var text = shellText(first)
            for (index, relationship) in path.relationships.enumerated() where index + 1 < path.nodes.count {
                let next = path.nodes[index + 1]
                let forward = relationship.start == path.nodes[index].id && relationship.end == next.id
                text += (forward ? "-" : "<-") + shellText(relationship) + (forward ? "->" : "-") + shellText(next)
            }
            return text
        }
    }

    /// A node as cypher-shell writes it: `(:Person {name: "Ann"})`.
    public static func shellText(_ node: CypherNode) -> String {
        let labels = node.labels.map { ":" + name($0) }.joined()
        let properties = node.properties.isEmpty ? "" : map(node.properties.mapValues(CypherValue.init))
        return "(" + labels + (labels.isEmpty || properties.isEmpty ? "" : " ") + properties + ")"
    }

    /// A relationship as cypher-shell writes it: `[:KNOWS {since: 2020}]`.
    public static func shellText(_ relationship: CypherRelationship) -> String {
        let properties =
            relationship.properties.isEmpty ? "" : " " + map(relationship.properties.mapValues(CypherValue.init))
        return "[:" + name(relationship.type) + properties + "]"
    }

    private static func map(_ entries: [String: CypherValue]) -> String {
        "{" + entries.keys.sorted().map { name($0) + ": " + shellText(entries[$0]!) }.joined(separator: ", ") + "}"
    }

    /// A label, type or key, in backquotes when it is not a plain identifier.
    private static func name(_ text: String) -> String {
        let plain =
            text.first.map { $0.isLetter || $0 == "_" } == true && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        return plain ? text : "`" + text.replacingOccurrences(of: "`", with: "``") + "`"
    }

    /// A string in double quotes, with `"`, `\` and control characters escaped (as JSON writes it).
    static func quote(_ text: String) -> String { JSONWriter.quote(text) }

    /// A JSON string literal.
    static func jsonQuote(_ text: String) -> String { quote(text) }

    /// A duration for people: `0.42 ms`, `12.3 ms`, `1.52 s`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        if milliseconds >= 1000 { return String(format: "%.2f s", milliseconds / 1000) }
        if milliseconds >= 10 { return String(format: "%.1f ms", milliseconds) }
        return String(format: "%.2f ms", milliseconds)
    }
}
