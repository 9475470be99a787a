/// An error from an embedder: a stable ``Code`` to match on, and a message that says what to do.
///
/// ```swift
/// do {
///     let embedder = try MiniLMEmbedder()
/// } catch EmbeddingError.Code.modelNotInstalled {
///     print("run `engram model install`")
/// }
/// ```
public struct EmbeddingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable error code. New codes may be added; match the ones you handle and keep a default.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name, such as `model_not_installed`.
        public let rawValue: String
        /// Creates a code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// The model files are missing: run `engram model install` or `scripts/install-model.sh`.
        public static let modelNotInstalled = Code(rawValue: "model_not_installed")
        /// The model files are there but are not what the embedder expects (truncated, wrong model).
        public static let invalidModel = Code(rawValue: "invalid_model")
        /// Installing the model failed (pip missing, no network, unwritable directory).
        public static let installFailed = Code(rawValue: "install_failed")
        /// No BLAS library could be loaded: install OpenBLAS (`apt-get install libopenblas0`).
        public static let blasUnavailable = Code(rawValue: "blas_unavailable")
        /// The embedder's configuration is unusable (no API key, a bad URL, a dimension below 1).
        public static let invalidConfiguration = Code(rawValue: "invalid_configuration")
        /// The input cannot be embedded (an empty token sequence, an id outside the vocabulary).
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// Stored vectors were made by another embedding model (their model id differs): reindex the
        /// store with the current embedder, or open it with the one that made them.
        public static let modelMismatch = Code(rawValue: "model_mismatch")
        /// A vector had another length than the embedder's dimension.
        public static let dimensionMismatch = Code(rawValue: "dimension_mismatch")
        /// The server refused the credentials (HTTP 401 or 403).
        public static let authentication = Code(rawValue: "authentication")
        /// The server kept answering HTTP 429 after every retry.
        public static let rateLimited = Code(rawValue: "rate_limited")
        /// The server kept failing with HTTP 5xx after every retry, or answered another error status.
        public static let server = Code(rawValue: "server")
        /// The server rejected the request as malformed (an HTTP 4xx other than 401, 403 and 429).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        /// The server's answer could not be understood (not JSON, missing or mis-sized vectors).
        public static let badResponse = Code(rawValue: "bad_response")
        /// A request took longer than the configured timeout, after every retry.
        public static let timeout = Code(rawValue: "timeout")
        /// The server could not be reached, after every retry.
        public static let network = Code(rawValue: "network")

        /// Whether `error` is an ``EmbeddingError`` with this code, so that `catch EmbeddingError.Code.x` works.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? EmbeddingError)?.code == code
        }
    }

    /// What went wrong, as a stable code.
    public let code: Code
    /// A one-line explanation that names the problem and, where there is one, the fix.
    public let message: String
    /// The HTTP status, for errors of the HTTP embedder that come from an answer.
    public let httpStatus: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
