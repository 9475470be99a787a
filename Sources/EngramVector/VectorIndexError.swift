/// An error of the vector layer: a bad vector, an unknown id, a malformed file or record.
///
/// The ``code`` is stable and meant for programs; the ``message`` is for people and says what to
/// do. Catch a kind of error by its code:
///
/// ```swift
/// do {
///     try index.insert(vector, id: 7)
/// } catch VectorIndexError.Code.dimensionMismatch {
///     // re-embed with the index's model
/// }
/// ```
public struct VectorIndexError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable kind of ``VectorIndexError``.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The code's stable name, such as `"dimensionMismatch"`.
        public var rawValue: String

        /// Creates a code from its stable name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A vector's number of components differs from the index's dimension.
        public static let dimensionMismatch = Code(rawValue: "dimensionMismatch")
        /// A vector has a NaN or infinite component.
        public static let nonFiniteComponent = Code(rawValue: "nonFiniteComponent")
        /// A vector cannot be normalised for the cosine metric because its length is zero.
        public static let zeroVector = Code(rawValue: "zeroVector")
        /// No live vector has the given id.
        public static let unknownID = Code(rawValue: "unknownID")
        /// A vector with the given id is already in the index.
        public static let duplicateID = Code(rawValue: "duplicateID")
        /// A parameter (M, ef, limit, dimension) is out of range.
        public static let invalidParameter = Code(rawValue: "invalidParameter")
        /// A vector file (`.fvecs`, `.ivecs`) is truncated or inconsistent.
        public static let malformedFile = Code(rawValue: "malformedFile")
        /// A persisted index record contradicts the index (bad slot, level or link).
        public static let corruptRecord = Code(rawValue: "corruptRecord")
        /// The index is full: internal slots are 32-bit.
        public static let capacityExceeded = Code(rawValue: "capacityExceeded")

        /// The code's stable name.
        public var description: String { rawValue }

        /// Whether `error` is a ``VectorIndexError`` with this code, so that a `catch` clause can
        /// name a code.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? VectorIndexError)?.code == code
        }
    }

    /// The stable kind of the error.
    public var code: Code
    /// What went wrong and what to do, for people.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: the stable kind of error.
    ///   - message: an explanation for people.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// A vector with `got` components was given to an index of dimension `expected`.
    public static func dimensionMismatch(expected: Int, got: Int) -> VectorIndexError {
        VectorIndexError(
            code: .dimensionMismatch,
            message:
                "the index holds vectors of \(expected) components, this one has \(got); embed with the index's model")
    }

    /// Component `index` of a vector is NaN or infinite.
    public static func nonFiniteComponent(index: Int, value: Float) -> VectorIndexError {
        VectorIndexError(
            code: .nonFiniteComponent, message: "component \(index) of the vector is \(value); vectors must be finite")
    }

    /// A zero vector was given to a cosine index.
    public static func zeroVector() -> VectorIndexError {
        VectorIndexError(code: .zeroVector, message: "a cosine index cannot hold or search the zero vector")
    }

    /// No live vector has id `id`.
    public static func unknownID(_ id: UInt64) -> VectorIndexError {
        VectorIndexError(code: .unknownID, message: "no vector with id \(id) is in the index")
    }

    /// A vector with id `id` is already in the index.
    public static func duplicateID(_ id: UInt64) -> VectorIndexError {
        VectorIndexError(
            code: .duplicateID, message: "a vector with id \(id) is already in the index; use update to replace it")
    }

    /// A parameter is out of range; `message` says which and why.
    public static func invalidParameter(_ message: String) -> VectorIndexError {
        VectorIndexError(code: .invalidParameter, message: message)
    }

    /// The file at `path` is not a well-formed TEXMEX vector file.
    public static func malformedFile(path: String, reason: String) -> VectorIndexError {
        VectorIndexError(code: .malformedFile, message: "\(path): \(reason)")
    }

    /// A persisted record cannot be applied; the stored index is damaged and must be rebuilt.
    public static func corruptRecord(_ reason: String) -> VectorIndexError {
        VectorIndexError(code: .corruptRecord, message: "\(reason); rebuild the index from its records")
    }
}
