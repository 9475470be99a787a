/// The error every Engram layer throws.
///
/// An `EngramError` has a stable ``code`` that programs can match on, and a ``message`` written
/// for a person: it says what went wrong and, where there is one, what to do about it.
///
/// Match a code with `catch` patterns, as with GRDB's `DatabaseError`:
///
/// ```swift
/// do {
///     try store.write { … }
/// } catch EngramError.Code.mapFull {
///     // raise the map size ceiling
/// } catch let error as EngramError {
///     print(error.code, error.message)
/// }
/// ```
public struct EngramError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier of a kind of failure.
    ///
    /// Codes are strings so that they read well in logs and JSON, and so that new ones can be
    /// added without breaking callers that switch over the ones they know.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's stable string form, in snake case.
        public let rawValue: String

        /// Creates a code from its string form.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The string form of the code.
        public var description: String { rawValue }

        /// Matches an error against this code in a `catch` pattern.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? EngramError)?.code == code
        }
    }

    /// The kind of failure.
    public let code: Code

    /// A message for a person: what failed and what to do.
    public let message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: what failed and, where possible, what to do about it.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code.rawValue): \(message)" }
}

// MARK: - Codes of the storage layer

extension EngramError.Code {
    /// The store's map reached its configured ceiling; raise `maximumMapSize` or free space.
    public static let mapFull = Self(rawValue: "map_full")
    /// Too many read transactions are open at once; raise `maxReaders` or close readers.
    public static let readersFull = Self(rawValue: "readers_full")
    /// The disk or file system has no space left for the store to grow.
    public static let noSpace = Self(rawValue: "no_space")
    /// The operating system refused access to the store's directory or files.
    public static let permissionDenied = Self(rawValue: "permission_denied")
    /// The store's files are damaged.
    public static let corrupted = Self(rawValue: "corrupted")
    /// The store was written in a format version this build does not read.
    public static let formatVersionMismatch = Self(rawValue: "format_version_mismatch")
    /// The path exists but does not hold an Engram store.
    public static let notAnEngramStore = Self(rawValue: "not_an_engram_store")
    /// A key is longer than the storage engine allows (511 bytes).
    public static let keyTooLong = Self(rawValue: "key_too_long")
    /// A value is larger than the storage engine accepts.
    public static let valueTooLarge = Self(rawValue: "value_too_large")
    /// A record, key or id does not exist.
    public static let notFound = Self(rawValue: "not_found")
    /// A record with that key or id already exists.
    public static let alreadyExists = Self(rawValue: "already_exists")
    /// A write transaction was started inside another write transaction on the same thread.
    public static let nestedWrite = Self(rawValue: "nested_write")
    /// A write was attempted in a read-only transaction or on a store opened read-only.
    public static let readOnlyTransaction = Self(rawValue: "read_only_transaction")
    /// A transaction, cursor or store was used after it ended or closed.
    public static let transactionClosed = Self(rawValue: "transaction_closed")
    /// The store is already open in this process with different options.
    public static let alreadyOpen = Self(rawValue: "already_open")
    /// Stored bytes could not be decoded: they are truncated, malformed or of an unknown version.
    public static let decodingFailed = Self(rawValue: "decoding_failed")
    /// An argument is out of its allowed range or malformed.
    public static let invalidArgument = Self(rawValue: "invalid_argument")
    /// An input/output error from the operating system.
    public static let ioError = Self(rawValue: "io_error")
    /// A failure of the storage engine that has no more specific code.
    public static let storageFailure = Self(rawValue: "storage_failure")
}

// MARK: - Codes of the graph layer

extension EngramError.Code {
    /// A node still has relationships and was deleted without `detach`.
    public static let nodeHasRelationships = Self(rawValue: "node_has_relationships")
    /// A name (label, relationship type, property key, tenant) is empty or malformed.
    public static let invalidName = Self(rawValue: "invalid_name")
}

// MARK: - Codes of the memory layer

extension EngramError.Code {
    /// A message role is not one of `user`, `assistant`, `system` or `tool`.
    public static let invalidRole = Self(rawValue: "invalid_role")
    /// An importance or confidence lies outside 0…1.
    public static let valueOutOfRange = Self(rawValue: "value_out_of_range")
    /// An annotation key is empty or holds `-`, `.` or whitespace.
    public static let invalidAnnotationKey = Self(rawValue: "invalid_annotation_key")
    /// A message, memory or entity name has no content.
    public static let emptyContent = Self(rawValue: "empty_content")
    /// A time to live is negative or not finite.
    public static let invalidTTL = Self(rawValue: "invalid_ttl")
    /// The context may not do this: a global-scope write without the administrative context, or a
    /// write in another user's or agent's name.
    public static let notPermitted = Self(rawValue: "not_permitted")
    /// A message was added to a conversation that has ended.
    public static let conversationEnded = Self(rawValue: "conversation_ended")
    /// A merge or unmerge that cannot be done: an entity into itself, into or from a merged
    /// entity, or the unmerge of an entity that is not merged.
    public static let invalidMerge = Self(rawValue: "invalid_merge")
}

// MARK: - Codes of the vector layer

extension EngramError.Code {
    /// A vector has another number of components than its index's dimension; embed it with the
    /// index's model (see ``EngramError/dimensionMismatch(expected:got:index:)``).
    public static let dimensionMismatch = Self(rawValue: "dimension_mismatch")
    /// A vector cannot be stored or searched: a NaN or infinite component, or the zero vector in a
    /// cosine index.
    public static let invalidVector = Self(rawValue: "invalid_vector")
    /// The store's memory vector indexes hold embeddings of another model than the store was
    /// opened with; re-embed with `EngramStore.reindex(with:)` or `engram reindex`.
    public static let embeddingModelMismatch = Self(rawValue: "embedding_model_mismatch")
}

extension EngramError {
    /// A vector of `got` components was given to vector index `index`, which holds `expected`.
    public static func dimensionMismatch(expected: Int, got: Int, index: String) -> EngramError {
        EngramError(
            .dimensionMismatch,
            "vector index '\(index)' holds vectors of \(expected) components (expected \(expected)), got \(got); embed with the index's model")
    }
}
