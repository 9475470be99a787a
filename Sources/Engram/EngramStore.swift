@_exported public import EngramCore
@_exported public import EngramEmbedding
import EngramStorage
import Synchronization

private struct WeakCatalog {
    weak var catalog: GraphCatalog?
    /// The environment the catalog belongs to: an `ObjectIdentifier` is reused once its object is
    /// freed, so a catalog is only reused for the very environment it was made for.
    weak var environment: StorageEnvironment?
}

/// An Engram store: one directory holding an agent's memory in an LMDB environment.
///
/// Open a store with ``init(path:configuration:embedder:)``. Opening the same directory twice in a process
/// shares one environment underneath, so it is safe to open it wherever it is needed.
///
/// ```swift
/// let store = try EngramStore(path: "memory.engram")
/// print(store.formatVersion)
/// ```
///
/// From a store you reach each layer: ``graph(tenant:)`` for the property graph,
/// ``context(tenant:user:agent:options:)`` for agent memory, ``query(_:parameters:tenant:limits:cancellation:)``
/// for read-only Cypher, and ``createVectorIndex(_:tenant:dimension:metric:parameters:model:)`` /
/// ``searchVectors(index:tenant:query:k:ef:model:)`` for vector search.
///
/// ## Topics
/// ### Opening
/// - ``init(path:configuration:embedder:)``
/// - ``Configuration``
/// - ``embedder``
/// - ``reindex(with:batchSize:progress:)``
/// ### Layers
/// - ``graph(tenant:)``
/// - ``context(tenant:user:agent:options:)``
/// - ``query(_:parameters:tenant:limits:cancellation:)``
/// - ``createVectorIndex(_:tenant:dimension:metric:parameters:model:)``
/// - ``searchVectors(index:tenant:query:k:ef:model:)``
/// ### Tenants
/// - ``tenants()``
/// - ``dropTenant(_:)``
/// ### Inspecting
/// - ``path``
/// - ``formatVersion``
/// - ``info()``
/// - ``sync()``
public final class EngramStore: Sendable {
    /// How a store is opened.
    public struct Configuration: Sendable, Hashable {
        /// When commits reach the disk.
        public enum Durability: Sendable, Hashable {
            /// Every commit is flushed to disk before it returns; nothing committed is ever lost.
            /// The default.
            case full
            /// Commits are not flushed. A crash of the process loses nothing; a crash of the machine
            /// (power loss, kernel panic) can lose the last commits and, on a file system that
            /// reorders writes, corrupt the store. Call ``EngramStore/sync()`` at chosen points.
            case noSync
        }

        /// The map size the store starts with, in bytes (256 MiB; the file grows only as it fills).
        public var initialMapSize: Int
        /// The largest the map may grow to, in bytes (1 TiB). Past it, writes fail with `mapFull`.
        public var maximumMapSize: Int
        /// The most read transactions open at once (126).
        public var maxReaders: Int
        /// When commits reach the disk (``Durability/full``).
        public var durability: Durability
        /// Open for reading only; writes fail with `readOnlyTransaction`.
        public var readOnly: Bool
        /// Create the store when the directory is missing or empty (`true`).
        public var createIfMissing: Bool

        /// The default configuration: durable, growing from 256 MiB up to 1 TiB.
        public init() {
            let defaults = StorageOptions()
            initialMapSize = defaults.initialMapSize
            maximumMapSize = defaults.maximumMapSize
            maxReaders = defaults.maxReaders
            durability = .full
            readOnly = defaults.readOnly
            createIfMissing = defaults.createIfMissing
        }

        var storageOptions: StorageOptions {
            var options = StorageOptions()
            options.initialMapSize = initialMapSize
            options.maximumMapSize = maximumMapSize
            options.maxReaders = maxReaders
            options.durability = durability == .full ? .full : .noSync
            options.readOnly = readOnly
            options.createIfMissing = createIfMissing
            return options
        }
    }

    /// Facts about an open store.
    public struct Info: Sendable, Hashable {
        /// The store's directory.
        public var path: String
        /// The store's on-disk format version.
        public var formatVersion: Int
        /// The current size of the memory map, in bytes.
        public var mapSize: Int
        /// The bytes of the data file in use.
        public var usedBytes: Int
        /// The id of the last committed transaction.
        public var lastTransactionID: Int
    }

    let environment: StorageEnvironment
    let catalog: GraphCatalog

    /// The embedder that turns the memory layer's texts into vectors, or `nil`: then no vectors are
    /// written and search runs on keywords and the graph only. See `docs/retrieval.md`.
    public let embedder: (any Embedder)?

    /// The store's directory.
    public var path: String { environment.path }

    /// The on-disk format version of the store.
    public var formatVersion: Int { Int(environment.formatVersion) }

    /// Opens the store in directory `path`, creating it when the directory is missing or empty.
    /// A writable open of a store written before the full-text index existed builds it (see
    /// ``rebuildFullTextIndex(tenant:options:)``); one of an older format version is upgraded to
    /// the current one in a single write transaction (`docs/storage-format.md`).
    ///
    /// - Throws: ``EngramError`` with code `notAnEngramStore` when the directory holds something
    ///   else (it is left untouched), `formatVersionMismatch` for a store of a newer format
    ///   version (or an older one opened read-only), `permissionDenied`, `noSpace`, `corrupted`, or `alreadyOpen` when the store is
    ///   open in this process with another configuration; `embeddingModelMismatch` when
    ///   `embedder` is given and the store's memory vector indexes were built with another model
    ///   (``reindex(with:batchSize:progress:)`` or `engram reindex` fixes it).
    /// - Parameter embedder: embeds memories, messages and entities when they are written, and
    ///   the queries of ``MemoryContext/search(_:in:filter:limit:mode:)``; `nil` for no vectors.
    public init(path: String, configuration: Configuration = Configuration(), embedder: (any Embedder)? = nil) throws {
        let environment = try StorageEnvironment.open(
            at: path, options: configuration.storageOptions, keyspaces: EngramStore.keyspaces,
            upgrades: GraphUpgrades.all)
        self.environment = environment
        self.embedder = embedder
        catalog = try EngramStore.catalogs.withLock { table in
            if let entry = table[ObjectIdentifier(environment)], entry.environment === environment,
                let existing = entry.catalog
            {
                return existing
            }
            let catalog = GraphCatalog(keyspaces: try GraphKeyspaces(environment))
            table[ObjectIdentifier(environment)] = WeakCatalog(catalog: catalog, environment: environment)
            return catalog
        }
        if !configuration.readOnly { try completeFullTextIndexes() }  // a store written before the index existed
        if let embedder { try checkEmbeddingModel(embedder) }
    }

    /// The keyspaces every store has.
    static let keyspaces: [KeyspaceDescriptor] = GraphKeyspaces.descriptors + VectorKeyspaces.descriptors + FullTextKeyspaces.descriptors

    /// One catalog per open environment, shared by every `EngramStore` on it, so that a symbol one
    /// of them creates is cached for all.
    private static let catalogs = Mutex<[ObjectIdentifier: WeakCatalog]>([:])

    /// Facts about the store: size, format version, last transaction.
    public func info() -> Info {
        let info = environment.info()
        return Info(
            path: path, formatVersion: formatVersion, mapSize: info.mapSize, usedBytes: info.usedBytes,
            lastTransactionID: info.lastTransactionID)
    }

    /// Flushes committed data to disk; needed only with ``Configuration/Durability/noSync``.
    public func sync() throws {
        try environment.sync()
    }
}
