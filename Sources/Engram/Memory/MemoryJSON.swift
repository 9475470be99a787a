import EngramCore
import EngramCypher
import Foundation

/// The JSON form of property values used by export and import (see `docs/export-format.md`):
/// exact for every ``PropertyValue`` case. Integers are JSON integers, floats always carry a `.`
/// or an exponent, and the cases JSON lacks are one-key objects: `{"$bytes": "<base64>"}`,
/// `{"$vector": [<floats>]}`, `{"$double": "nan" | "inf" | "-inf"}`, and `{"$map": {…}}` for a
/// map that has a key starting with `$`.
enum MemoryJSON {
    // MARK: Writing

    static func append(_ value: PropertyValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let number): out += String(number)
        case .double(let number): appendDouble(number, to: &out)
        case .string(let text): appendString(text, to: &out)
        case .bytes(let bytes):
            out += "{\"$bytes\":"
            appendString(Data(bytes).base64EncodedString(), to: &out)
            out += "}"
        case .list(let values):
            out += "["
            for (i, element) in values.enumerated() {
                if i > 0 { out += "," }
                append(element, to: &out)
            }
            out += "]"
        case .map(let entries):
            let escaped = entries.keys.contains { $0.hasPrefix("$") }
            if escaped { out += "{\"$map\":" }
            appendObject(entries, to: &out)
            if escaped { out += "}" }
        case .vector(let components):
            out += "{\"$vector\":["
            for (i, component) in components.enumerated() {
                if i > 0 { out += "," }
                if component.isFinite { out += "\(component)" } else { out += "0" }
            }
            out += "]}"
        }
    }

    static func appendObject(_ entries: [String: PropertyValue], to out: inout String) {
        out += "{"
        for (i, key) in entries.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            appendString(key, to: &out)
            out += ":"
            append(entries[key]!, to: &out)
        }
        out += "}"
    }

    static func appendDouble(_ number: Double, to out: inout String) {
        if number.isNaN {
            out += "{\"$double\":\"nan\"}"
        } else if number.isInfinite {
            out += number > 0 ? "{\"$double\":\"inf\"}" : "{\"$double\":\"-inf\"}"
        } else {
            let text = "\(number)"
            out += text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) ? text : text + ".0"
        }
    }

    static func appendString(_ text: String, to out: inout String) {
        out += JSONWriter.quote(text)
    }

    // MARK: Reading

    /// A parsed JSON value; numbers keep their text so that integers, doubles and floats are read exactly.
    indirect enum Value {
        case null, bool(Bool), number(String), string(String), array([Value]), object([String: Value])
    }

    static func parse(_ text: String) throws -> Value {
        var parser = Parser(bytes: Array(text.utf8))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.position == parser.bytes.count else { throw parser.failure("text after the value") }
        return value
    }

    static func property(_ value: Value) throws -> PropertyValue {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .number(let text):
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let number = Int64(text) {
                return .int(number)
            }
            guard let number = Double(text) else { throw EngramError(.decodingFailed, "'\(text)' is not a number") }
            return .double(number)
        case .string(let text): return .string(text)
        case .array(let values): return .list(try values.map(property))
        case .object(let entries):
            if entries.count == 1, let (key, inner) = entries.first, key.hasPrefix("$") {
                switch (key, inner) {
                case ("$bytes", .string(let base64)):
                    guard let data = Data(base64Encoded: base64) else {
                        throw EngramError(.decodingFailed, "bad base64 in $bytes")
                    }
                    return .bytes(Array(data))
                case ("$vector", .array(let components)):
                    return .vector(
                        try components.map {
                            guard case .number(let text) = $0, let component = Float(text) else {
                                throw EngramError(.decodingFailed, "a $vector holds a non-number")
                            }
                            return component
                        })
                case ("$double", .string(let name)):
                    switch name {
                    case "nan": return .double(.nan)
                    case "inf": return .double(.infinity)
                    case "-inf": return .double(-.infinity)
                    default: throw EngramError(.decodingFailed, "unknown $double '\(name)'")
                    }
                case ("$map", .object(let inner)): return .map(try inner.mapValues(property))
                default: throw EngramError(.decodingFailed, "unknown tagged value '\(key)'")
                }
            }
            return .map(try entries.mapValues(property))
        }
    }

    struct Parser {
        let bytes: [UInt8]
        var position = 0

        func failure(_ what: String) -> EngramError {
            EngramError(.decodingFailed, "bad JSON at byte \(position): \(what)")
        }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func value() throws -> Value {
            skipSpace()
            guard position < bytes.count else { throw failure("unexpected end") }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var entries: [String: Value] = [:]
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .object(entries)
                }
                while true {
                    skipSpace()
                    guard case .string(let key) = try value() else { throw failure("an object key must be a string") }
                    skipSpace()
                    try expect(":")
                    entries[key] = try value()
                    skipSpace()
                    if try separator("}") { return .object(entries) }
                }
            case UInt8(ascii: "["):
                position += 1
                var values: [Value] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return .array(values)
                }
                while true {
                    values.append(try value())
                    skipSpace()
                    if try separator("]") { return .array(values) }
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default:
                let start = position
                while position < bytes.count, "+-0123456789.eE".utf8.contains(bytes[position]) { position += 1 }
                guard position > start else { throw failure("unexpected character") }
                return .number(String(decoding: bytes[start..<position], as: UTF8.self))
            }
        }

        mutating func expect(_ character: Character) throws {
            guard position < bytes.count, bytes[position] == character.asciiValue! else {
                throw failure("expected '\(character)'")
            }
            position += 1
        }

        /// After an element: `,` (false) or the closing character (true).
        mutating func separator(_ close: Character) throws -> Bool {
            guard position < bytes.count else { throw failure("unexpected end") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                return false
            }
            try expect(close)
            return true
        }

        mutating func literal(_ word: String) throws {
            for byte in word.utf8 {
                guard position < bytes.count, bytes[position] == byte else { throw failure("expected \(word)") }
                position += 1
            }
        }

        mutating func string() throws -> String {
            try expect("\"")
            var scalars = String.UnicodeScalarView()
            var run: [UInt8] = []
            func flush() {
                scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
                run.removeAll(keepingCapacity: true)
            }
            while true {
                guard position < bytes.count else { throw failure("unterminated string") }
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte != UInt8(ascii: "\\") {
                    run.append(byte)
                    continue
                }
                flush()
                guard position < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{c}")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), position + 1 < bytes.count,
                        bytes[position] == UInt8(ascii: "\\"),
                        bytes[position + 1] == UInt8(ascii: "u")
                    {
                        position += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw failure("bad \\u escape") }
                    scalars.append(scalar)
                default: scalars.append(Unicode.Scalar(escape))
                }
            }
            flush()
            return String(scalars)
        }

        mutating func hex4() throws -> UInt32 {
            guard position + 4 <= bytes.count,
                let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
            else { throw failure("bad \\u escape") }
            position += 4
            return code
        }
    }
}
