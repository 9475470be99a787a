import Engram

/// The code of the ``EngramError`` an async `body` throws, or `nil` when it throws nothing or
/// another error (the async twin of `errorCode`).
func asyncErrorCode(_ body: () async throws -> Void) async -> EngramError.Code? {
    do {
        try await body()
        return nil
    } catch let error as EngramError {
        return error.code
    } catch {
        return nil
    }
}
