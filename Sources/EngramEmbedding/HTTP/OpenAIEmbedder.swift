public import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An embedder that calls an OpenAI-compatible `POST {baseURL}/embeddings` endpoint: OpenAI, Azure
/// OpenAI's compatible route, Ollama (`http://localhost:11434/v1`), vLLM, LM Studio, llama.cpp's server…
///
/// Requests carry `{"model", "input": [texts], "encoding_format": "float"}` (and `"dimensions"` when
/// ``Configuration/sendsDimensions`` is set) with `Authorization: Bearer <key>` when there is a key.
/// Texts are sent in batches of at most ``Configuration/batchSize``. A request that times out, fails
/// to connect, or is answered 429 or 5xx is retried with exponential backoff
/// (``Configuration/initialBackoff`` doubling up to ``Configuration/maximumBackoff``), waiting instead
/// what a `Retry-After` header asks (seconds or an HTTP date, capped at the maximum backoff).
///
/// ```swift
/// let embedder = try OpenAIEmbedder(configuration: .fromEnvironment(model: "text-embedding-3-small", dimension: 1536))
/// let vectors = try await embedder.embed(["User prefers Python"])
/// ```
///
/// Errors are ``EmbeddingError``s: `.authentication` (401/403, not retried), `.rateLimited` and
/// `.server` (after the last retry), `.timeout` and `.network`, `.invalidRequest` (another 4xx),
/// `.badResponse` (not the expected JSON, or vectors of another dimension).
public struct OpenAIEmbedder: Embedder {
    /// Where and how to call the endpoint.
    public struct Configuration: Sendable {
        /// The API root, to which `/embeddings` is appended, such as `https://api.openai.com/v1`.
        public var baseURL: URL
        /// The model name sent with each request.
        public var model: String
        /// The bearer token; nil sends no `Authorization` header (local servers).
        public var apiKey: String?
        /// The length of the vectors the model returns; every answer is checked against it.
        public var dimension: Int
        /// Whether to ask for ``dimension`` with the `dimensions` request field (OpenAI's
        /// `text-embedding-3-*` models can shorten their vectors; many servers reject the field).
        public var sendsDimensions: Bool
        /// Seconds one request may take before it counts as timed out (and is retried).
        public var timeout: TimeInterval
        /// How many times a failed request is retried (so at most `maximumRetries + 1` attempts).
        public var maximumRetries: Int
        /// The wait before the first retry; each later retry waits twice as long.
        public var initialBackoff: TimeInterval
        /// The longest wait between two attempts, also the cap on `Retry-After`.
        public var maximumBackoff: TimeInterval
        /// The most texts in one request (OpenAI accepts 2,048; smaller batches keep requests small).
        public var batchSize: Int

        /// Creates a configuration. The defaults suit OpenAI: a 60-second timeout (long batches on a
        /// busy server), 4 retries from 0.5 s doubling to at most 30 s (about a minute of patience in
        /// all), 96 texts per request.
        public init(
            baseURL: URL, model: String, apiKey: String? = nil, dimension: Int, sendsDimensions: Bool = false,
            timeout: TimeInterval = 60, maximumRetries: Int = 4, initialBackoff: TimeInterval = 0.5,
            maximumBackoff: TimeInterval = 30, batchSize: Int = 96
        ) {
            self.baseURL = baseURL
            self.model = model
            self.apiKey = apiKey
            self.dimension = dimension
            self.sendsDimensions = sendsDimensions
            self.timeout = timeout
            self.maximumRetries = maximumRetries
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.batchSize = batchSize
        }

        /// A configuration from the environment: the base URL from `ENGRAM_EMBEDDING_BASE_URL`, else
        /// `OPENAI_BASE_URL`, else `https://api.openai.com/v1`; the key from `ENGRAM_EMBEDDING_API_KEY`,
        /// else `OPENAI_API_KEY` (none is fine for a local server).
        /// - Throws: `.invalidConfiguration` when the base URL is not an http(s) URL.
        public static func fromEnvironment(
            model: String, dimension: Int, environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws -> Configuration {
            func value(_ names: String...) -> String? {
                names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
            }
            let base = value("ENGRAM_EMBEDDING_BASE_URL", "OPENAI_BASE_URL") ?? "https://api.openai.com/v1"
            guard let url = URL(string: base), ["http", "https"].contains(url.scheme?.lowercased() ?? "") else {
                throw EmbeddingError(.invalidConfiguration, "the embedding base URL \(base) is not an http(s) URL")
            }
            return Configuration(
                baseURL: url, model: model, apiKey: value("ENGRAM_EMBEDDING_API_KEY", "OPENAI_API_KEY"),
                dimension: dimension)
        }
    }

    /// The configuration.
    public let configuration: Configuration
    private let owner: SessionOwner
    private var session: URLSession { owner.session }

    /// `openai-compatible:<model>`, with `@<dimension>` when the dimension is requested from the server.
    public var modelID: String {
        "openai-compatible:\(configuration.model)"
            + (configuration.sendsDimensions ? "@\(configuration.dimension)" : "")
    }

    /// The configured dimension.
    public var dimension: Int { configuration.dimension }

    /// Creates the embedder; nothing is sent until ``embed(_:)``.
    /// - Throws: `.invalidConfiguration` for an empty model, a dimension or batch size below 1, a
    ///   negative retry count or a timeout that is not positive.
    public init(configuration: Configuration) throws {
        guard !configuration.model.isEmpty, configuration.dimension >= 1, configuration.batchSize >= 1,
            configuration.maximumRetries >= 0, configuration.timeout > 0, configuration.initialBackoff >= 0,
            configuration.maximumBackoff >= 0
        else {
            throw EmbeddingError(
                .invalidConfiguration,
                "an OpenAI-compatible embedder needs a model, a dimension and batch size of at least 1, "
                    + "a positive timeout and non-negative retries and backoff")
        }
        self.configuration = configuration
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        // URLSession's own timers are a backstop only (on Linux they truncate to whole seconds, so
        // 0.5 s would time out at once); `send` enforces the exact timeout.
        sessionConfiguration.timeoutIntervalForRequest = Self.backstop(configuration.timeout)
        sessionConfiguration.timeoutIntervalForResource = Self.backstop(configuration.timeout)
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        owner = SessionOwner(URLSession(configuration: sessionConfiguration))
    }

    /// The vectors of `texts`, in order, in batches of at most ``Configuration/batchSize``.
    /// - Throws: ``EmbeddingError`` (see the type's discussion); `CancellationError` when the task is
    ///   cancelled during a backoff wait.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let end = min(texts.count, start + configuration.batchSize)
            vectors += try await embedBatch(Array(texts[start..<end]))
            start = end
        }
        return vectors
    }

    /// One request, with its retries.
    private func embedBatch(_ texts: [String]) async throws -> [[Float]] {
        let request = try makeRequest(texts)
        var attempt = 0
        while true {
            let failure: EmbeddingError
            var retryAfter: TimeInterval? = nil
            do {
                let (data, response) = try await send(request)
                guard let http = response as? HTTPURLResponse else {
                    throw EmbeddingError(.badResponse, "the answer is not HTTP")
                }
                switch http.statusCode {
                case 200..<300:
                    return try decode(data, count: texts.count)
                case 401, 403:
                    throw EmbeddingError(
                        .authentication,
                        "the server refused the credentials (HTTP \(http.statusCode)); check ENGRAM_EMBEDDING_API_KEY or OPENAI_API_KEY: \(Self.summary(data))",
                        httpStatus: http.statusCode)
                case 429:
                    failure = EmbeddingError(
                        .rateLimited, "rate limited (HTTP 429) after \(attempt + 1) attempts: \(Self.summary(data))",
                        httpStatus: 429)
                    retryAfter = Self.retryAfter(http.value(forHTTPHeaderField: "Retry-After"))
                case 500..<600:
                    failure = EmbeddingError(
                        .server,
                        "server error (HTTP \(http.statusCode)) after \(attempt + 1) attempts: \(Self.summary(data))",
                        httpStatus: http.statusCode)
                    retryAfter = Self.retryAfter(http.value(forHTTPHeaderField: "Retry-After"))
                default:
                    throw EmbeddingError(
                        .invalidRequest,
                        "the server rejected the request (HTTP \(http.statusCode)): \(Self.summary(data))",
                        httpStatus: http.statusCode)
                }
            } catch let error as EmbeddingError {
                throw error
            } catch let error as URLError {
                if error.code == .timedOut {
                    failure = EmbeddingError(
                        .timeout,
                        "no answer from \(request.url?.absoluteString ?? "") within \(configuration.timeout) s after \(attempt + 1) attempts"
                    )
                } else if error.code == .cancelled {
                    throw CancellationError()
                } else {
                    failure = EmbeddingError(
                        .network,
                        "cannot reach \(request.url?.absoluteString ?? ""): \(error.localizedDescription) (after \(attempt + 1) attempts)"
                    )
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failure = EmbeddingError(
                    .network, "the request failed: \(error.localizedDescription) (after \(attempt + 1) attempts)")
            }
            guard attempt < configuration.maximumRetries else { throw failure }
            try await Task.sleep(nanoseconds: UInt64(delay(attempt: attempt, retryAfter: retryAfter) * 1e9))
            attempt += 1
        }
    }

    /// The wait before retry number `attempt + 1`: `Retry-After` when the server sent one, else the
    /// exponential backoff; never more than the maximum backoff.
    package func delay(attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        let backoff = configuration.initialBackoff * pow(2, Double(min(attempt, 30)))
        return min(configuration.maximumBackoff, max(0, retryAfter ?? backoff))
    }

    private func makeRequest(_ texts: [String]) throws -> URLRequest {
        var request = URLRequest(url: configuration.baseURL.appendingPathComponent("embeddings"))
        request.httpMethod = "POST"
        request.timeoutInterval = Self.backstop(configuration.timeout)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let key = configuration.apiKey, !key.isEmpty {
            request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        }
        var body: [String: Any] = ["model": configuration.model, "input": texts, "encoding_format": "float"]
        if configuration.sendsDimensions { body["dimensions"] = configuration.dimension }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        return request
    }

    /// URLSession's timeout for a configured timeout: whole seconds, a second later than ours.
    private static func backstop(_ timeout: TimeInterval) -> TimeInterval { timeout.rounded(.up) + 1 }

    /// Sends the request and gives up after the timeout. The answer, the timeout and a cancellation
    /// of the calling task race; the first one wins and the data task is cancelled, so a server that
    /// never answers (or URLSession's timers, which only count whole seconds on Linux) cannot hold
    /// the caller longer than the timeout.
    private func send(_ request: URLRequest) async throws -> (Data, URLResponse) {
        let race = RequestRace()
        let session = self.session
        let timeout = configuration.timeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation) {
                    session.dataTask(with: request) { data, response, error in
                        if let data, let response, error == nil {
                            race.finish(.success((data, response)))
                        } else {
                            race.finish(.failure(error ?? URLError(.badServerResponse)))
                        }
                    }
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                    race.finish(.failure(URLError(.timedOut)))
                }
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    private struct Answer: Decodable {
        struct Item: Decodable {
            let embedding: [Float]
            let index: Int?
        }
        let data: [Item]
    }

    private func decode(_ data: Data, count: Int) throws -> [[Float]] {
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw EmbeddingError(.badResponse, "the answer is not an embeddings JSON object: \(Self.summary(data))")
        }
        guard answer.data.count == count else {
            throw EmbeddingError(.badResponse, "asked for \(count) embeddings, got \(answer.data.count)")
        }
        var vectors = [[Float]](repeating: [], count: count)
        for (position, item) in answer.data.enumerated() {
            let index = item.index ?? position
            guard vectors.indices.contains(index), vectors[index].isEmpty else {
                throw EmbeddingError(.badResponse, "the answer has a missing or repeated index \(index)")
            }
            guard item.embedding.count == configuration.dimension else {
                throw EmbeddingError(
                    .badResponse,
                    "expected vectors of dimension \(configuration.dimension), got \(item.embedding.count)")
            }
            vectors[index] = item.embedding
        }
        return vectors
    }

    /// A `Retry-After` value in seconds: delta-seconds or an HTTP date.
    package static func retryAfter(_ value: String?) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }

    /// The start of a body, for error messages.
    private static func summary(_ data: Data) -> String {
        let text = String(decoding: data.prefix(200), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text.replacingOccurrences(of: "\n", with: " ")
    }
}

/// The state of one request's race between its answer, its timeout and cancellation: the first
/// `finish` resumes the continuation and cancels the data task; later ones do nothing.
private final class RequestRace: @unchecked Sendable {
    // Safe: every stored property is read and written under `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<(Data, URLResponse), any Error>?
    private var task: URLSessionDataTask?
    private var outcome: Result<(Data, URLResponse), any Error>?

    func start(
        _ continuation: CheckedContinuation<(Data, URLResponse), any Error>, makeTask: () -> URLSessionDataTask
    ) {
        let task = makeTask()
        let early: Result<(Data, URLResponse), any Error>? = lock.withLock {
            if let outcome { return outcome }
            self.continuation = continuation
            self.task = task
            return nil
        }
        if let early {
            // Cancelled before the request started.
            continuation.resume(with: early)
        } else {
            task.resume()
        }
    }

    func finish(_ result: Result<(Data, URLResponse), any Error>) {
        let (continuation, task): (CheckedContinuation<(Data, URLResponse), any Error>?, URLSessionDataTask?) =
            lock.withLock {
                guard outcome == nil else { return (nil, nil) }
                outcome = result
                defer {
                    self.continuation = nil
                    self.task = nil
                }
                return (self.continuation, self.task)
            }
        task?.cancel()
        continuation?.resume(with: result)
    }
}

/// Owns the embedder's URLSession and invalidates it when the last copy of the embedder goes away
/// (a session holds native resources until it is invalidated).
private final class SessionOwner: Sendable {
    let session: URLSession

    init(_ session: URLSession) { self.session = session }

    deinit { session.finishTasksAndInvalidate() }
}
