import Foundation

/// Runs `body` in a task and blocks the calling (non-cooperative) thread until it finishes, so
/// that the synchronous `run()` of a subcommand can call the async memory API (the writes that
/// embed). Never call it from inside a task.
/// - Returns: what `body` returns.
/// - Throws: what `body` throws.
@discardableResult
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = BlockingOutcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            outcome.result = .success(try await body())
        } catch {
            outcome.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    return try outcome.result!.get()
}

/// The result slot of ``blocking(_:)``: written once by the task before it signals, read by the
/// waiting thread after.
private final class BlockingOutcome<T: Sendable>: @unchecked Sendable {
    // Safe (@unchecked): the semaphore orders the single write before the single read.
    var result: Result<T, any Error>?
}
