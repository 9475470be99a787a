import EngramEmbedding
import Foundation
import Testing

/// The HTTP embedder against a real HTTP server on 127.0.0.1.
@Suite("OpenAI-compatible HTTP embedder")
struct OpenAIEmbedderTests {
    static func answer(_ vectors: [[Float]]) -> String {
        let items = vectors.enumerated().map { index, vector in
            "{\"object\":\"embedding\",\"index\":\(index),\"embedding\":[\(vector.map { "\($0)" }.joined(separator: ","))]}"
        }
        return "{\"object\":\"list\",\"model\":\"m\",\"data\":[\(items.joined(separator: ","))]}"
    }

    func configuration(_ server: TestHTTPServer, retries: Int = 2, timeout: TimeInterval = 5)
        -> OpenAIEmbedder.Configuration
    {
        OpenAIEmbedder.Configuration(
            baseURL: server.baseURL, model: "test-model", apiKey: "sk-test", dimension: 3, timeout: timeout,
            maximumRetries: retries, initialBackoff: 0.05, maximumBackoff: 2, batchSize: 2)
    }

    @Test func successSendsTheRequestAndKeepsTheOrder() async throws {
        // Answers out of order: the embedder must sort by index.
        let outOfOrder = """
            {"data":[{"index":1,"embedding":[0,1,0]},{"index":0,"embedding":[1,0,0]}]}
            """
        let server = try TestHTTPServer(responses: [.json(outOfOrder), .json(Self.answer([[0, 0, 1]]))])
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(configuration: configuration(server))
        let vectors = try await embedder.embed(["first", "second", "third"])
        #expect(vectors == [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        let requests = server.requests
        #expect(requests.count == 2, "batch size 2 splits three texts into two requests")
        let first = try #require(requests.first)
        #expect(first.method == "POST")
        #expect(first.path == "/v1/embeddings")
        #expect(first.headers["authorization"] == "Bearer sk-test")
        let body = try #require(try JSONSerialization.jsonObject(with: first.body) as? [String: Any])
        #expect(body["model"] as? String == "test-model")
        #expect(body["input"] as? [String] == ["first", "second"])
        #expect(body["dimensions"] == nil)
        #expect(embedder.modelID == "openai-compatible:test-model")
    }

    @Test func rateLimitHonoursRetryAfterThenSucceeds() async throws {
        let server = try TestHTTPServer(responses: [
            .json("{\"error\":\"slow down\"}", status: 429, headers: [("Retry-After", "1")]),
            .json(Self.answer([[1, 2, 3]])),
        ])
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(configuration: configuration(server))
        let start = Date()
        let vectors = try await embedder.embed(["x"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(vectors == [[1, 2, 3]])
        #expect(server.requests.count == 2)
        #expect(elapsed >= 0.95, "Retry-After: 1 must be honoured, waited \(elapsed) s")
    }

    @Test func serverErrorsAreRetriedUntilExhausted() async throws {
        let server = try TestHTTPServer(responses: [.json("{\"error\":\"boom\"}", status: 500)])
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(configuration: configuration(server, retries: 2))
        await #expect {
            _ = try await embedder.embed(["x"])
        } throws: { error in
            guard let error = error as? EmbeddingError else { return false }
            return error.code == .server && error.httpStatus == 500
        }
        #expect(server.requests.count == 3, "one attempt and two retries")
    }

    @Test func unauthorisedIsAnAuthenticationErrorWithoutRetry() async throws {
        let server = try TestHTTPServer(responses: [.json("{\"error\":\"bad key\"}", status: 401)])
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(configuration: configuration(server))
        await #expect {
            _ = try await embedder.embed(["x"])
        } throws: { error in
            (error as? EmbeddingError)?.code == .authentication
        }
        #expect(server.requests.count == 1)
    }

    @Test(arguments: [
        "not json at all",
        "{\"data\":[]}",
        "{\"data\":[{\"index\":0,\"embedding\":[1,2]}]}",
        "{\"data\":[{\"index\":0,\"embedding\":\"oops\"}]}",
        "{\"data\":[{\"index\":5,\"embedding\":[1,2,3]}]}",
    ])
    func malformedAnswersAreBadResponses(body: String) async throws {
        let server = try TestHTTPServer(responses: [.json(body)])
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(configuration: configuration(server))
        await #expect {
            _ = try await embedder.embed(["x"])
        } throws: { error in
            (error as? EmbeddingError)?.code == .badResponse
        }
        #expect(server.requests.count == 1, "a bad response is not retried")
    }

    @Test func aSilentServerTimesOut() async throws {
        var slow = TestHTTPServer.Response.json(Self.answer([[1, 2, 3]]))
        slow.delay = 60
        let server = try TestHTTPServer(responses: [slow])
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(configuration: configuration(server, retries: 0, timeout: 0.5))
        let start = Date()
        await #expect {
            _ = try await embedder.embed(["x"])
        } throws: { error in
            (error as? EmbeddingError)?.code == .timeout
        }
        // The server would answer only after 60 s, so a `.timeout` error before then means the
        // client's own timer fired. When it fired is not checked more closely: on a loaded 2-core
        // machine the test's clock (and the server thread's) can run seconds late, and a red run on
        // a timer's lateness would say nothing about the code.
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.45 && elapsed < 55, "timed out after \(elapsed) s")
    }

    @Test func anUnreachableServerIsANetworkError() async throws {
        // Port 9 on loopback (discard) has no listener here: the connection is refused at once.
        let configuration = OpenAIEmbedder.Configuration(
            baseURL: URL(string: "http://127.0.0.1:9/v1")!, model: "m", dimension: 3, timeout: 2,
            maximumRetries: 1, initialBackoff: 0.01)
        let embedder = try OpenAIEmbedder(configuration: configuration)
        await #expect {
            _ = try await embedder.embed(["x"])
        } throws: { error in
            let code = (error as? EmbeddingError)?.code
            return code == .network || code == .timeout
        }
    }

    @Test func dimensionsAreSentWhenAsked() async throws {
        let server = try TestHTTPServer(responses: [.json(Self.answer([[1, 2, 3]]))])
        defer { server.stop() }
        var configuration = configuration(server)
        configuration.sendsDimensions = true
        let embedder = try OpenAIEmbedder(configuration: configuration)
        _ = try await embedder.embed(["x"])
        let body = try #require(try JSONSerialization.jsonObject(with: server.requests[0].body) as? [String: Any])
        #expect(body["dimensions"] as? Int == 3)
        #expect(embedder.modelID == "openai-compatible:test-model@3")
    }

    @Test func anEmptyInputSendsNothing() async throws {
        let server = try TestHTTPServer(responses: [.json("{}", status: 500)])
        defer { server.stop() }
        let embedder = try OpenAIEmbedder(configuration: configuration(server))
        #expect(try await embedder.embed([]).isEmpty)
        #expect(server.requests.isEmpty)
    }

    @Test func theEnvironmentConfiguresTheEndpoint() throws {
        let configuration = try OpenAIEmbedder.Configuration.fromEnvironment(
            model: "nomic-embed-text", dimension: 768,
            environment: ["ENGRAM_EMBEDDING_BASE_URL": "http://localhost:11434/v1", "OPENAI_API_KEY": "sk-x"])
        #expect(configuration.baseURL.absoluteString == "http://localhost:11434/v1")
        #expect(configuration.apiKey == "sk-x")
        let defaults = try OpenAIEmbedder.Configuration.fromEnvironment(model: "m", dimension: 1, environment: [:])
        #expect(defaults.baseURL.absoluteString == "https://api.openai.com/v1")
        #expect(defaults.apiKey == nil)
        #expect(throws: EmbeddingError.self) {
            try OpenAIEmbedder.Configuration.fromEnvironment(
                model: "m", dimension: 1, environment: ["OPENAI_BASE_URL": "ftp://x"])
        }
    }

    @Test func invalidConfigurationsAreRejected() {
        let url = URL(string: "http://127.0.0.1:1/v1")!
        #expect(throws: EmbeddingError.self) {
            try OpenAIEmbedder(configuration: .init(baseURL: url, model: "", dimension: 3))
        }
        #expect(throws: EmbeddingError.self) {
            try OpenAIEmbedder(configuration: .init(baseURL: url, model: "m", dimension: 0))
        }
        #expect(throws: EmbeddingError.self) {
            try OpenAIEmbedder(configuration: .init(baseURL: url, model: "m", dimension: 3, batchSize: 0))
        }
    }

    @Test func retryAfterReadsSecondsAndDates() {
        #expect(OpenAIEmbedder.retryAfter("2") == 2)
        #expect(OpenAIEmbedder.retryAfter(nil) == nil)
        #expect(OpenAIEmbedder.retryAfter("soon") == nil)
        #expect(OpenAIEmbedder.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == 0)
    }
}
