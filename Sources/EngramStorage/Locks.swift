#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many transactions of one environment the current thread has open (a thread-local count).
///
/// The outermost transaction of a thread takes the environment's resize lock; nested ones (a read
/// inside a write, a read inside a read) do not take it again, which would deadlock a
/// writer-preferring lock while a growth waits. A write that must grow the map while the thread
/// still holds an outer transaction cannot wait for itself, so it fails with a clear error instead.
final class TransactionDepth: @unchecked Sendable {
    private let key: pthread_key_t

    init() {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        self.key = key
    }

    deinit {
        pthread_key_delete(key)
    }

    @inline(__always) var current: Int {
        Int(bitPattern: pthread_getspecific(key))
    }

    @inline(__always) func set(_ depth: Int) {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: depth))
    }
}

/// An identifier of the calling thread, for detecting a write inside a write.
@inline(__always)
func currentThreadID() -> UInt {
    #if canImport(Darwin)
    return UInt(bitPattern: pthread_self())
    #else
    return UInt(pthread_self())
    #endif
}
