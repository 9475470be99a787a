import EngramCore
import EngramStorage
import Synchronization

/// The committed symbols (labels, relationship types, property keys) and tenants of a store,
/// cached in memory.
///
/// Only committed entries enter the cache: a ``GraphSession`` keeps the ones it creates apart and
/// hands them over with ``absorb(_:)`` after its transaction commits, so an aborted transaction never
/// leaves an id in the cache that the store does not have.
final class GraphCatalog: Sendable {
    let keyspaces: GraphKeyspaces

    struct Names: Sendable {
        var ids: [SymbolKind: [String: UInt32]] = [:]
        var names: [SymbolKind: [UInt32: String]] = [:]
        var tenants: [String: UInt32] = [:]

        mutating func merge(_ other: Names) {
            for (kind, table) in other.ids { ids[kind, default: [:]].merge(table) { a, _ in a } }
            for (kind, table) in other.names { names[kind, default: [:]].merge(table) { a, _ in a } }
            tenants.merge(other.tenants) { a, _ in a }
        }
    }

    private let cache = Mutex(Names())

    init(keyspaces: GraphKeyspaces) {
        self.keyspaces = keyspaces
    }

    func cachedSymbol(_ kind: SymbolKind, _ name: String) -> UInt32? {
        cache.withLock { $0.ids[kind]?[name] }
    }

    func cachedName(_ kind: SymbolKind, _ id: UInt32) -> String? {
        cache.withLock { $0.names[kind]?[id] }
    }

    func cachedTenant(_ name: String) -> UInt32? {
        cache.withLock { $0.tenants[name] }
    }

    /// Drops a tenant from the cache, after the tenant was deleted.
    func forget(tenant: String) {
        cache.withLock { _ = $0.tenants.removeValue(forKey: tenant) }
    }

    /// Adds entries read from, or committed to, the store.
    func absorb(_ names: Names) {
        cache.withLock { $0.merge(names) }
    }
}
