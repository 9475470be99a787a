/// How a ``StorageEnvironment`` is opened.
package struct StorageOptions: Sendable, Hashable {
    /// When commits reach the disk.
    package enum Durability: Sendable, Hashable {
        /// Every commit is flushed to disk (`fsync`) before `write` returns. After a crash of the
        /// process or of the machine the store is exactly at its last commit. The default.
        case full
        /// Commits are not flushed (LMDB's `MDB_NOSYNC`). A crash of the *process* (even SIGKILL)
        /// loses nothing, because the operating system still writes the pages out. A crash of the
        /// *machine* (power loss, kernel panic) can lose the transactions committed since the last
        /// flush, and on a file system that reorders writes can leave the store corrupted. Call
        /// ``StorageEnvironment/sync()`` to flush at chosen points. Several times faster for small
        /// transactions.
        case noSync
    }

    /// The size the memory map starts with, in bytes.
    ///
    /// 256 MiB: large enough that a small store never resizes, and free to reserve because the map
    /// is virtual address space; the data file grows only as pages are written.
    package var initialMapSize: Int = 256 << 20

    /// The largest the map may grow to, in bytes; a write that needs more fails with `mapFull`.
    ///
    /// 1 TiB: far above what a memory store should reach on one machine, yet a fraction of the
    /// 128 TiB of user address space on x86-64 and arm64 Linux, so several stores can coexist.
    package var maximumMapSize: Int = 1 << 40

    /// The most read transactions that may be open at once across every process using the store.
    ///
    /// 126 is LMDB's default and covers Swift's cooperative pool plus dozens of reader threads.
    package var maxReaders: Int = 126

    /// When commits reach the disk. ``Durability/full`` by default.
    package var durability: Durability = .full

    /// Opens the store for reading only: writes fail with `readOnlyTransaction`, and nothing is
    /// created. Use it for a store on a read-only file system or directory.
    package var readOnly: Bool = false

    /// Creates the store when the directory does not exist or is empty.
    package var createIfMissing: Bool = true

    /// The most keyspaces (LMDB named databases) the store can hold; set at open.
    ///
    /// 64: the engine uses about twenty; the rest is room for later format versions.
    package var maxKeyspaces: Int = 64

    /// Creates the default options: durable, 256 MiB initial map growing to 1 TiB.
    package init() {}
}
