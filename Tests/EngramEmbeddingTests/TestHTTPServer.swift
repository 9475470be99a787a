import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for the HTTP embedder's tests: it answers each connection
/// with the next scripted response (the last one repeats), records the requests, and closes the
/// connection. One connection at a time; every test calls `stop()` (in a `defer`), which ends the
/// thread within 50 ms and closes the socket.
final class TestHTTPServer: @unchecked Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: String
        /// Seconds to wait before answering (to make the client time out).
        var delay: TimeInterval = 0

        static func json(_ body: String, status: Int = 200, headers: [(String, String)] = []) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
        }
    }

    struct Request: Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: Data
    }

    let port: UInt16
    private let listener: Int32
    private let responses: [Response]
    private let lock = NSLock()
    private var recorded: [Request] = []
    private var stopped = false

    /// The requests received so far.
    var requests: [Request] { lock.withLock { recorded } }

    init(responses: [Response]) throws {
        precondition(!responses.isEmpty)
        self.responses = responses
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        // The thread keeps the server alive until stop(); then it closes the socket and ends.
        Thread { self.serve() }.start()
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    func stop() {
        lock.withLock { stopped = true }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func serve() {
        var served = 0
        while !isStopped {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            // Wake up every 50 ms to notice stop().
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            if connection < 0 { continue }
            let response = responses[min(served, responses.count - 1)]
            served += 1
            if let request = readRequest(connection) {
                lock.withLock { recorded.append(request) }
                let deadline = Date().addingTimeInterval(response.delay)
                var clientLeft = false
                while Date() < deadline, !isStopped {
                    if hasHungUp(connection) {  // the client gave up: stop delaying
                        clientLeft = true
                        break
                    }
                    usleep(10_000)
                }
                if !clientLeft { write(response, to: connection) }
            }
            close(connection)
        }
        close(listener)
    }

    /// Whether the peer closed the connection (readable with nothing left to read).
    private func hasHungUp(_ connection: Int32) -> Bool {
        var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(connection, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0
    }

    private func readRequest(_ connection: Int32) -> Request? {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int? = nil
        var contentLength = 0
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            buffer += chunk[0..<count]
            if headerEnd == nil, let end = buffer.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
                headerEnd = end
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let end = headerEnd, buffer.count >= end + contentLength {
                let head = String(decoding: buffer[0..<end], as: UTF8.self).split(separator: "\r\n")
                let requestLine = head.first?.split(separator: " ") ?? []
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                        in: .whitespaces)
                }
                return Request(
                    method: requestLine.count > 0 ? String(requestLine[0]) : "",
                    path: requestLine.count > 1 ? String(requestLine[1]) : "",
                    headers: headers, body: Data(buffer[end..<(end + contentLength)]))
            }
        }
        return nil
    }

    private func write(_ response: Response, to connection: Int32) {
        let body = Array(response.body.utf8)
        var head = "HTTP/1.1 \(response.status) Status\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { return }
            sent += count
        }
    }
}
