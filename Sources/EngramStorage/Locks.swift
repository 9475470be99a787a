#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A readers–writer lock (`pthread_rwlock_t`) that guards the memory map against resizing.
///
/// Every transaction holds it shared; growing the map takes it exclusively, because LMDB may only
/// change the map size while no transaction of the process is active. It prefers writers, so that a
/// steady stream of readers cannot starve a growth; in exchange it must never be taken twice by
/// one thread, which ``TransactionDepth`` prevents.
final class ReadWriteLock: @unchecked Sendable {
    // Safe: the lock lives at a stable heap address for the life of this object.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    @inline(__always) func lockShared() { pthread_rwlock_rdlock(lock) }
    @inline(__always) func lockExclusive() { pthread_rwlock_wrlock(lock) }
    @inline(__always) func unlock() { pthread_rwlock_unlock(lock) }
}

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
