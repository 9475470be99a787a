import EngramCore
import EngramStorage

/// The keyspaces of the full-text index and the layout of their keys. `docs/storage-format.md`
/// ("Full-text index") documents the same table; the two must change together.
///
/// `t` is the tenant's 4-byte id, `g` the field group byte (``FullTextGroup``), `n` an 8-byte
/// internal node id; all big-endian. The term is the analyzer's output, escaped and terminated
/// like every key string, so the postings of one term are one key range, in node order.
///
/// | keyspace | key | value |
/// | --- | --- | --- |
/// | `fulltext_postings` | `t g` ‖ term ‖ `n` | term frequency u32, document length u32 |
/// | `fulltext_documents` | `t g n` | document length u32 |
/// | `fulltext_statistics` | `t g` | version `01`, analyzer flags, document count u64, total length u64 |
struct FullTextKeyspaces: Sendable {
    let postings: Keyspace
    let documents: Keyspace
    let statistics: Keyspace

    static let descriptors: [KeyspaceDescriptor] = ["fulltext_postings", "fulltext_documents", "fulltext_statistics"]
        .map { KeyspaceDescriptor($0) }

    init(_ environment: StorageEnvironment) throws {
        postings = try environment.keyspace("fulltext_postings")
        documents = try environment.keyspace("fulltext_documents")
        statistics = try environment.keyspace("fulltext_statistics")
    }

    var all: [Keyspace] { [postings, documents, statistics] }
}

/// The field groups of the full-text index: which nodes are documents and which of their
/// properties are their text. A node is a document of a group when it has the group's label;
/// its text is the string values (and the strings of list values) of the group's properties,
/// each analyzed on its own.
///
/// | group | label | properties |
/// | --- | --- | --- |
/// | `memories` | `Memory` | `content` |
/// | `messages` | `Message` | `content` |
/// | `entities` | `Entity` | `name`, `aliases`, `type`, `description` |
/// | `traces` | `ReasoningTrace` | `task` |
package enum FullTextGroup: UInt8, Sendable, Hashable, CaseIterable {
    case memories = 0
    case messages = 1
    case entities = 2
    case traces = 3

    /// The group's name, as Cypher's `db.index.fulltext.queryNodes` takes it.
    package var name: String {
        switch self {
        case .memories: "memories"
        case .messages: "messages"
        case .entities: "entities"
        case .traces: "traces"
        }
    }

    /// The group named `name` (case-insensitive).
    package init?(name: String) {
        guard let group = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = group
    }

    /// The label that makes a node a document of the group.
    package var label: String {
        switch self {
        case .memories: "Memory"
        case .messages: "Message"
        case .entities: "Entity"
        case .traces: "ReasoningTrace"
        }
    }

    /// The properties whose text is indexed.
    package var properties: [String] {
        switch self {
        case .memories, .messages: ["content"]
        case .entities: ["name", "aliases", "type", "description"]
        case .traces: ["task"]
        }
    }
}

/// The collection statistics of one group of one tenant, with the analyzer options its terms were made with.
package struct FullTextStatistics: Sendable, Hashable {
    /// The analyzer options of the index.
    package var options: AnalyzerOptions
    /// The number of documents.
    package var documentCount: Int
    /// The sum of the documents' lengths, in terms.
    package var totalLength: Int

    /// The mean document length (0 for an empty index).
    package var averageLength: Double {
        documentCount == 0 ? 0 : Double(totalLength) / Double(documentCount)
    }

    static let formatVersion: UInt8 = 1
    static let empty = FullTextStatistics(options: .default, documentCount: 0, totalLength: 0)

    var encoded: [UInt8] {
        var bytes: [UInt8] = [Self.formatVersion, options.flags]
        bytes += KeyWriter.bigEndian(UInt64(documentCount))
        bytes += KeyWriter.bigEndian(UInt64(totalLength))
        return bytes
    }

    init(options: AnalyzerOptions, documentCount: Int, totalLength: Int) {
        self.options = options
        self.documentCount = documentCount
        self.totalLength = totalLength
    }

    init(decoding value: UnsafeRawBufferPointer) throws {
        guard value.count == 18, value[0] == Self.formatVersion else {
            throw EngramError(.corrupted, "a full-text statistics record is malformed or of an unknown version")
        }
        options = AnalyzerOptions(flags: value[1])
        documentCount = Int(GraphKey.uint64(value, at: 2))
        totalLength = Int(GraphKey.uint64(value, at: 10))
    }

    /// Whether the record can be left out: nothing indexed and the default options.
    var isVacant: Bool { documentCount == 0 && options == .default }
}

/// Key builders of the full-text keyspaces.
enum FullTextKey {
    static func group(_ tenant: UInt32, _ group: FullTextGroup) -> [UInt8] {
        var writer = KeyWriter(capacity: 5)
        writer.append(tenant)
        writer.append(group.rawValue)
        return writer.bytes
    }

    static func term(_ tenant: UInt32, _ group: FullTextGroup, _ term: String) -> KeyWriter {
        var writer = KeyWriter(capacity: 16 + term.utf8.count)
        writer.append(tenant)
        writer.append(group.rawValue)
        writer.append(term)
        return writer
    }

    static func posting(_ tenant: UInt32, _ group: FullTextGroup, _ term: String, _ node: UInt64) -> [UInt8] {
        var writer = Self.term(tenant, group, term)
        writer.append(node)
        return writer.bytes
    }

    static func document(_ tenant: UInt32, _ group: FullTextGroup, _ node: UInt64) -> [UInt8] {
        var writer = KeyWriter(capacity: 13)
        writer.append(tenant)
        writer.append(group.rawValue)
        writer.append(node)
        return writer.bytes
    }

    static func postingValue(frequency: Int, length: Int) -> [UInt8] {
        KeyWriter.bigEndian(UInt32(clamping: frequency)) + KeyWriter.bigEndian(UInt32(clamping: length))
    }
}
