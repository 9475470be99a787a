#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A readers-writer lock (`pthread_rwlock_t`): any number of readers, or one writer. Shared by
/// the storage engine (the lock that guards LMDB's memory map against resizing) and the vector
/// indexes (searches against inserts).
///
/// The lock lives at a fixed heap address, as POSIX requires.
package final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    /// A new, unlocked lock.
    ///
    /// - Parameter preferWriters: on glibc, a waiting writer blocks new readers, so that a steady
    ///   stream of readers cannot starve it; such a lock must never be taken twice by one thread.
    package init(preferWriters: Bool = false) {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
            if preferWriters {
                pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
            }
        #endif
        let status = pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        precondition(status == 0, "pthread_rwlock_init failed: \(status)")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    /// Takes the lock shared (blocks while a writer holds it).
    @inline(__always) package func lockShared() { pthread_rwlock_rdlock(lock) }
    /// Takes the lock exclusively (blocks while anyone holds it).
    @inline(__always) package func lockExclusive() { pthread_rwlock_wrlock(lock) }
    /// Releases the lock, shared or exclusive.
    @inline(__always) package func unlock() { pthread_rwlock_unlock(lock) }

    /// Runs `body` holding the lock shared.
    @inline(__always)
    package func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockShared()
        defer { unlock() }
        return try body()
    }

    /// Runs `body` holding the lock exclusively.
    @inline(__always)
    package func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockExclusive()
        defer { unlock() }
        return try body()
    }
}
