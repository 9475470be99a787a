#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A readers–writer lock (`pthread_rwlock_t`) that guards the memory map against resizing.
///
/// Every transaction holds it shared; growing the map takes it exclusively, because LMDB may only
/// change the map size while no transaction of the process is active. glibc's default prefers
/// readers, so a thread that already holds it shared can take it shared again without deadlock.
final class ReadWriteLock: @unchecked Sendable {
    // Safe: the lock lives at a stable heap address for the life of this object.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    @inline(__always) func lockShared() { pthread_rwlock_rdlock(lock) }
    @inline(__always) func lockExclusive() { pthread_rwlock_wrlock(lock) }
    @inline(__always) func unlock() { pthread_rwlock_unlock(lock) }
}

/// How many read transactions the current thread has open, across all environments.
///
/// A write that must grow the map waits until no transaction is active; if this thread itself holds
/// a read transaction, waiting would never end, so the write fails with a clear error instead.
enum ThreadReadDepth {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    @inline(__always) static var current: Int {
        Int(bitPattern: pthread_getspecific(key))
    }

    @inline(__always) static func increment() {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: current + 1))
    }

    @inline(__always) static func decrement() {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: current - 1))
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
