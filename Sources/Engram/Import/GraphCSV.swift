import EngramCore
import Foundation

/// Reads the CSV shape of `../shared/bench`'s graph (and any CSV like it) into bulk-load records.
///
/// - Nodes: a header with an `id` column; every other column becomes a property. Every node gets
///   the label `Entity` (and the labels of a `labels` column, split on `;`, when there is one).
/// - Relationships: a header with `from`, `to` and `type` columns; `type` becomes the relationship
///   type, every other column a property.
///
/// Fields follow RFC 4180 (quotes, doubled quotes, commas and newlines inside quotes). A field
/// that reads as an integer becomes an integer property, one that reads as a number a float, an
/// empty field no property, anything else a string.
public enum GraphCSV {
    /// Reads a node file.
    /// - Throws: `invalidArgument` naming the file and line for a missing `id` column, a row of the
    ///   wrong width, or text that is not UTF-8; `notFound` for a missing file.
    public static func nodes(atPath path: String) throws -> [NodeImport] {
        let table = try CSVTable(path: path)
        guard let idColumn = table.header.firstIndex(of: "id") else {
            throw EngramError(.invalidArgument, "\(path): the header has no 'id' column")
        }
        let labelsColumn = table.header.firstIndex(of: "labels")
        var nodes: [NodeImport] = []
        nodes.reserveCapacity(table.rowCountEstimate)
        try table.forEachRow { line, fields in
            var properties: [String: PropertyValue] = [:]
            var labels = ["Entity"]
            for (index, field) in fields.enumerated() where index != idColumn {
                if index == labelsColumn {
                    labels += field.split(separator: ";").map(String.init).filter { !$0.isEmpty && $0 != "Entity" }
                } else if let value = parse(field) {
                    properties[table.header[index]] = value
                }
            }
            guard !fields[idColumn].isEmpty else { throw EngramError(.invalidArgument, "\(path):\(line): the id is empty") }
            nodes.append(NodeImport(id: fields[idColumn], labels: labels, properties: properties))
        }
        return nodes
    }

    /// Reads a relationship file.
    public static func relationships(atPath path: String) throws -> [RelationshipImport] {
        let table = try CSVTable(path: path)
        guard let from = table.header.firstIndex(of: "from"), let to = table.header.firstIndex(of: "to"),
            let type = table.header.firstIndex(of: "type")
        else {
            throw EngramError(.invalidArgument, "\(path): the header needs 'from', 'to' and 'type' columns")
        }
        var relationships: [RelationshipImport] = []
        relationships.reserveCapacity(table.rowCountEstimate)
        try table.forEachRow { line, fields in
            var properties: [String: PropertyValue] = [:]
            for (index, field) in fields.enumerated() where index != from && index != to && index != type {
                if let value = parse(field) { properties[table.header[index]] = value }
            }
            guard !fields[type].isEmpty else { throw EngramError(.invalidArgument, "\(path):\(line): the type is empty") }
            relationships.append(
                RelationshipImport(from: fields[from], to: fields[to], type: fields[type], properties: properties))
        }
        return relationships
    }

    /// The property value a CSV field stands for; `nil` for an empty field.
    static func parse(_ field: String) -> PropertyValue? {
        if field.isEmpty { return nil }
        if let integer = Int64(field) { return .int(integer) }
        if let first = field.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: ".") || (first >= 48 && first <= 57),
            let number = Double(field)
        {
            return .double(number)
        }
        return .string(field)
    }
}

/// A CSV file read in one go and split into fields.
struct CSVTable {
    let path: String
    let bytes: [UInt8]
    let header: [String]
    private let bodyStart: Int

    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngramError(.notFound, "cannot read \(path)")
        }
        bytes = [UInt8](data)
        var offset = 0
        var line = 1
        guard let header = try Self.record(in: bytes, at: &offset, line: &line, path: path) else {
            throw EngramError(.invalidArgument, "\(path) is empty; it needs a header line")
        }
        self.header = header
        bodyStart = offset
    }

    /// A guess of the number of rows, for reserving capacity.
    var rowCountEstimate: Int {
        let sample = bytes[bodyStart..<min(bytes.count, bodyStart + 65_536)]
        let lines = sample.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        guard lines > 0 else { return 16 }
        return (bytes.count - bodyStart) / max(1, sample.count / lines) + 16
    }

    /// Calls `body(line, fields)` for every data row.
    func forEachRow(_ body: (Int, [String]) throws -> Void) throws {
        var offset = bodyStart
        var line = 2
        while true {
            let startLine = line
            guard let fields = try Self.record(in: bytes, at: &offset, line: &line, path: path) else { return }
            if fields.count == 1 && fields[0].isEmpty { continue }  // a blank line
            guard fields.count == header.count else {
                throw EngramError(
                    .invalidArgument, "\(path):\(startLine): \(fields.count) fields where the header has \(header.count)")
            }
            try body(startLine, fields)
        }
    }

    /// Reads one record (RFC 4180) starting at `offset`; `nil` at the end of the input.
    static func record(in bytes: [UInt8], at offset: inout Int, line: inout Int, path: String) throws -> [String]? {
        guard offset < bytes.count else { return nil }
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var i = offset
        func finish() throws {
            guard let text = String(validating: field, as: UTF8.self) else {
                throw EngramError(.invalidArgument, "\(path):\(line): a field is not valid UTF-8")
            }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let byte = bytes[i]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        i += 2
                        continue
                    }
                    quoted = false
                } else {
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                }
                i += 1
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                try finish()
            case UInt8(ascii: "\"") where field.isEmpty:
                quoted = true
            case 0x0A:
                try finish()
                line += 1
                offset = i + 1
                return fields
            case 0x0D where i + 1 < bytes.count && bytes[i + 1] == 0x0A:
                break
            default:
                field.append(byte)
            }
            i += 1
        }
        if quoted { throw EngramError(.invalidArgument, "\(path):\(line): a quoted field is not closed") }
        try finish()
        offset = bytes.count
        return fields
    }
}
