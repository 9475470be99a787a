import EngramCore

extension CypherResult {
    /// The result as one JSON document, as the command line prints it (SPEC §6):
    /// `{"columns": [...], "rows": [[...], ...]}`, with nodes as `{"id", "labels", "properties"}`,
    /// relationships as `{"id", "type", "start", "end", "properties"}` and paths as
    /// `{"nodes": [...], "relationships": [...]}`. Map keys are sorted; a non-finite float is
    /// rendered as the string `"NaN"`, `"Infinity"` or `"-Infinity"`.
    ///
    /// - Complexity: O(size of the result).
    public func jsonString() -> String {
        var output = "{\"columns\":["
        output += columns.map(JSONWriter.quote).joined(separator: ",")
        output += "],\"rows\":["
        output += rows.map { row in "[" + row.map(JSONWriter.render).joined(separator: ",") + "]" }
            .joined(separator: ",")
        output += "]}"
        return output
    }

    /// The result as CSV (RFC 4180): a header row of column names, then one line per row. Strings
    /// are written as they are, `null` as an empty field, numbers and booleans as literals, and
    /// lists, maps, nodes, relationships and paths as their JSON rendering. Fields that contain a
    /// comma, a quote or a line break are quoted, with quotes doubled.
    public func csvString() -> String {
        func field(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacing("\"", with: "\"\"") + "\""
        }
        func render(_ value: CypherValue) -> String {
            switch value {
            case .null: return ""
            case .string(let text): return text
            case .boolean, .integer, .float: return JSONWriter.render(value).trimmingQuotes()
            default: return JSONWriter.render(value)
            }
        }
        var lines = [columns.map(field).joined(separator: ",")]
        for row in rows { lines.append(row.map { field(render($0)) }.joined(separator: ",")) }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The result as a text table with a header row, one line per row, and a row count footer.
    ///
    /// ```
    /// +--------+-----+
    /// | name   | age |
    /// +--------+-----+
    /// | 'Ada'  | 36  |
    /// +--------+-----+
    /// 1 row
    /// ```
    public func tableString() -> String {
        let cells = rows.map { $0.map(\.description) }
        var widths = columns.map(\.count)
        for row in cells {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        let rule = "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+"
        func line(_ values: [String]) -> String {
            "|"
                + values.enumerated().map { index, value in
                    " " + value + String(repeating: " ", count: widths[index] - value.count) + " "
                }.joined(separator: "|") + "|"
        }
        var lines = [rule, line(columns), rule]
        for row in cells { lines.append(line(row)) }
        if !cells.isEmpty { lines.append(rule) }
        lines.append("\(rows.count) row\(rows.count == 1 ? "" : "s")")
        return lines.joined(separator: "\n")
    }
}

/// JSON text for result values, without Foundation.
package enum JSONWriter {
    /// `text` as a JSON string: in double quotes, with `"`, `\` and control characters escaped.
    package static func quote(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + "\""
    }

    static func render(_ value: CypherValue) -> String {
        switch value {
        case .null: return "null"
        case .boolean(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .float(let d): return d.isFinite ? String(d) : quote(CypherValue.format(d))
        case .string(let s): return quote(s)
        case .bytes(let bytes): return "[" + bytes.map { String($0) }.joined(separator: ",") + "]"
        case .list(let items): return "[" + items.map(render).joined(separator: ",") + "]"
        case .map(let entries): return object(entries.mapValues(render))
        case .node(let node): return render(node)
        case .relationship(let relationship): return render(relationship)
        case .path(let path):
            return "{\"nodes\":[" + path.nodes.map(render).joined(separator: ",") + "],\"relationships\":["
                + path.relationships.map(render).joined(separator: ",") + "]}"
        }
    }

    static func render(_ node: CypherNode) -> String {
        "{\"id\":\(quote(node.id)),\"labels\":[" + node.labels.map(quote).joined(separator: ",")
            + "],\"properties\":" + properties(node.properties) + "}"
    }

    static func render(_ relationship: CypherRelationship) -> String {
        "{\"id\":\(quote(relationship.id)),\"type\":\(quote(relationship.type)),\"start\":\(quote(relationship.start)),"
            + "\"end\":\(quote(relationship.end)),\"properties\":" + properties(relationship.properties) + "}"
    }

    private static func properties(_ properties: [String: PropertyValue]) -> String {
        object(properties.mapValues { render(CypherValue($0)) })
    }

    private static func object(_ rendered: [String: String]) -> String {
        "{" + rendered.keys.sorted().map { quote($0) + ":" + rendered[$0]! }.joined(separator: ",") + "}"
    }
}

extension String {
    /// The string without one pair of surrounding double quotes (JSON renders `NaN` quoted).
    fileprivate func trimmingQuotes() -> String {
        hasPrefix("\"") && hasSuffix("\"") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}
