import CEngramLMDB
import EngramCore
import Foundation

/// A step that rewrites a store of format `version - 1` into format `version`, inside the write
/// transaction that also records the new version (so a failed upgrade leaves the store as it was).
/// The body gets the transaction and every keyspace of the store by name.
package struct StoreUpgrade: Sendable {
    /// The format version the step produces.
    package let version: UInt32
    package let body: @Sendable (Transaction, [String: Keyspace]) throws -> Void

    package init(to version: UInt32, _ body: @escaping @Sendable (Transaction, [String: Keyspace]) throws -> Void) {
        self.version = version
        self.body = body
    }
}

/// The on-disk format of an Engram store: its marker, its version, and how a directory is checked
/// before LMDB is allowed near it. `docs/storage-format.md` describes the layout.
package enum StoreFormat {
    /// The format version this build writes and reads.
    ///
    /// Bump it whenever a key or value layout changes, with a ``StoreUpgrade`` from the version
    /// before; a store of a newer version, or of an older one that cannot be upgraded (a read-only
    /// open), is refused at open with `formatVersionMismatch` rather than misread.
    ///
    /// Version 2: the adjacency entries carry their relationship's properties. Version 3: the
    /// `degrees` keyspace counts each node's relationships per direction and type.
    package static let currentVersion: UInt32 = 3

    /// The keyspace that holds the marker and the version.
    static let metaKeyspace = KeyspaceDescriptor("meta")
    static let magicKey = Array("magic".utf8)
    static let magicValue = Array("engram-store".utf8)
    static let versionKey = Array("format_version".utf8)
    static let createdKey = Array("created_at".utf8)

    /// Writes the marker of a new store or checks the marker of an existing one, then opens the
    /// keyspaces. Returns the format version and the opened keyspaces (the meta keyspace included).
    static func initialize(
        env: LMDB.Environment, path: String, isNew: Bool, readOnly: Bool, descriptors: [KeyspaceDescriptor],
        upgrades: [StoreUpgrade], maximumMapSize: Int
    ) throws -> (UInt32, [String: Keyspace]) {
        let all = [metaKeyspace] + descriptors
        let fresh = try isNew || isEmpty(env: env)
        if fresh {
            if readOnly {
                throw EngramError(.notFound, "there is no Engram store at \(path) to open read-only")
            }
            let keyspaces = try StorageEnvironment.withBootstrapTransaction(env: env, readOnly: false) { txn in
                let keyspaces = try openAll(all, in: txn, create: true, path: path)
                let meta = keyspaces[metaKeyspace.name]!
                try txn.put(magicValue, forKey: magicKey, in: meta)
                try txn.put(KeyWriter.bigEndian(currentVersion), forKey: versionKey, in: meta)
                let now = UInt64(Date().timeIntervalSince1970 * 1000)
                try txn.put(KeyWriter.bigEndian(now), forKey: createdKey, in: meta)
                return keyspaces
            }
            return (currentVersion, keyspaces)
        }

        let version = try StorageEnvironment.withBootstrapTransaction(env: env, readOnly: true) { txn in
            let (handle, rc) = LMDB.openDatabase(txn.raw, name: metaKeyspace.name, create: false, sortedDuplicates: false)
            if rc == MDB_NOTFOUND {
                throw EngramError(
                    .notAnEngramStore,
                    "\(path) holds an LMDB environment that is not an Engram store; it was left untouched")
            }
            try LMDB.check(rc, .openKeyspace, context: "meta")
            let meta = Keyspace(name: metaKeyspace.name, handle: handle)
            guard try txn.value(forKey: magicKey, in: meta) == magicValue else {
                throw EngramError(
                    .notAnEngramStore,
                    "\(path) holds an LMDB environment without Engram's marker; it was left untouched")
            }
            guard let bytes = try txn.value(forKey: versionKey, in: meta), bytes.count == 4 else {
                throw EngramError(.corrupted, "the store at \(path) has no readable format version")
            }
            return bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        // The steps from `version` up, one per version; complete when none is missing.
        let steps = version < currentVersion
            ? (version + 1...currentVersion).compactMap { target in upgrades.first { $0.version == target } } : []
        let upgradable = version < currentVersion && steps.count == Int(currentVersion - version)
        guard version == currentVersion || (upgradable && !readOnly) else {
            let advice =
                version > currentVersion
                ? "it was written by a newer Engram; open it with that version or newer"
                : upgradable
                    ? "it was written by an older Engram; open it once writable to upgrade it"
                    : "it was written by an older Engram; export it with that version and import it here"
            throw EngramError(
                .formatVersionMismatch,
                "the store at \(path) has format version \(version) but this build reads version \(currentVersion): \(advice). The store was not changed")
        }
        if version < currentVersion {
            // Every step in one write transaction: the store is upgraded whole, or not at all. A
            // full map is grown (doubling, up to the maximum) and the upgrade run again.
            while true {
                do {
                    let keyspaces = try StorageEnvironment.withBootstrapTransaction(env: env, readOnly: false) { txn in
                        let keyspaces = try openAll(all, in: txn, create: true, path: path)
                        for step in steps { try step.body(txn, keyspaces) }
                        try txn.put(KeyWriter.bigEndian(currentVersion), forKey: versionKey, in: keyspaces[metaKeyspace.name]!)
                        return keyspaces
                    }
                    return (currentVersion, keyspaces)
                } catch EngramError.Code.mapFull {
                    let current = LMDB.info(env).mapSize
                    guard current < maximumMapSize else { throw EngramError(
                        .mapFull,
                        "upgrading the store at \(path) to format version \(currentVersion) needs more than its maximum map size of \(current) bytes; open it with a larger maximumMapSize. The store was not changed")
                    }
                    try LMDB.setMapSize(env, current > maximumMapSize / 2 ? maximumMapSize : current * 2)
                }
            }
        }
        let keyspaces = try StorageEnvironment.withBootstrapTransaction(env: env, readOnly: readOnly) { txn in
            try openAll(all, in: txn, create: !readOnly, path: path)
        }
        return (version, keyspaces)
    }

    /// Whether the environment holds no named database at all: a data file LMDB just created, or
    /// one left by a creation that crashed before its first commit.
    private static func isEmpty(env: LMDB.Environment) throws -> Bool {
        try StorageEnvironment.withBootstrapTransaction(env: env, readOnly: true) { txn in
            let (main, rc) = LMDB.openDatabase(txn.raw, name: nil, create: false, sortedDuplicates: false)
            try LMDB.check(rc, .openKeyspace, context: "main")
            return try LMDB.entryCount(txn.raw, main) == 0
        }
    }

    private static func openAll(
        _ descriptors: [KeyspaceDescriptor], in txn: Transaction, create: Bool, path: String
    ) throws -> [String: Keyspace] {
        var keyspaces: [String: Keyspace] = [:]
        for descriptor in descriptors {
            let (handle, rc) = LMDB.openDatabase(
                txn.raw, name: descriptor.name, create: create, sortedDuplicates: descriptor.sortedDuplicates)
            if rc == MDB_NOTFOUND {
                throw EngramError(
                    .notFound,
                    "the store at \(path) has no keyspace '\(descriptor.name)'; open it writable once to create it")
            }
            try LMDB.check(rc, .openKeyspace, context: descriptor.name)
            keyspaces[descriptor.name] = Keyspace(name: descriptor.name, handle: handle)
        }
        return keyspaces
    }
}

/// A store directory, checked before LMDB opens it.
struct StoreDirectory {
    /// Whether the directory has no data file yet.
    var isNew: Bool
    var identity: FileIdentity

    /// The name of LMDB's data file inside the directory.
    static let dataFile = "data.mdb"
    /// The name of LMDB's lock file inside the directory.
    static let lockFile = "lock.mdb"
    /// The magic number at the start of an LMDB meta page (after the 16-byte page header on 64-bit
    /// systems), little-endian.
    static let lmdbMagic: UInt32 = 0xBEEF_C0DE

    /// Checks `path` and creates it when allowed. Never writes into a directory that is not empty
    /// and holds no Engram store.
    static func prepare(path: String, options: StorageOptions) throws -> StoreDirectory {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        if !files.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard options.createIfMissing, !options.readOnly else {
                throw EngramError(.notFound, "there is no store at \(path)")
            }
            do {
                try files.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw EngramError(
                    .permissionDenied, "could not create the store directory \(path): \(error.localizedDescription)")
            }
        } else if !isDirectory.boolValue {
            throw EngramError(
                .notAnEngramStore, "\(path) is a file, not a store directory; Engram stores are directories")
        }

        let dataPath = path + "/" + dataFile
        var isNew = false
        if files.fileExists(atPath: dataPath) {
            try checkDataFile(dataPath)
        } else {
            let contents = (try? files.contentsOfDirectory(atPath: path)) ?? []
            if contents.contains(where: { $0 != lockFile }) {
                throw EngramError(
                    .notAnEngramStore,
                    "\(path) is not empty and holds no Engram store; choose a new or empty directory. Nothing was changed")
            }
            if options.readOnly {
                throw EngramError(.notFound, "there is no Engram store at \(path) to open read-only")
            }
            isNew = true
        }
        if !options.readOnly && access(path, W_OK) != 0 {
            throw EngramError(
                .permissionDenied,
                "the store directory \(path) is not writable; fix its permissions or open the store read-only")
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw EngramError(.ioError, "could not read the attributes of \(path)")
        }
        return StoreDirectory(isNew: isNew, identity: FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
    }

    /// Refuses a data file that is not an LMDB environment, before LMDB maps it.
    private static func checkDataFile(_ dataPath: String) throws {
        guard let handle = FileHandle(forReadingAtPath: dataPath) else {
            throw EngramError(.permissionDenied, "could not read \(dataPath)")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 20)) ?? Data()
        if header.isEmpty { return }  // created and never written: LMDB initialises it
        guard header.count == 20 else {
            throw EngramError(.notAnEngramStore, "\(dataPath) is too short to be a store's data file; it was left untouched")
        }
        let magic = header[16..<20].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        guard magic == lmdbMagic else {
            throw EngramError(
                .notAnEngramStore, "\(dataPath) is not an LMDB data file, so not an Engram store; it was left untouched")
        }
    }
}
