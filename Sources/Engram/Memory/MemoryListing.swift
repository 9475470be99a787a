public import EngramCore
public import Foundation

/// How a list is cut and ordered: a limit (1…1000), an offset or a cursor, and an order.
///
/// ```swift
/// var options = ListOptions(limit: 20, order: .updatedAt, descending: true)
/// var page = try memory.memories(options: options)
/// while let cursor = page.nextCursor {
///     options.cursor = cursor
///     page = try memory.memories(options: options)
/// }
/// ```
public struct ListOptions: Sendable, Hashable {
    /// What a list is ordered by; ties are broken by id.
    public enum Order: String, Sendable, Hashable, CaseIterable {
        /// Creation time (a message's timestamp).
        case createdAt = "created_at"
        /// Last change.
        case updatedAt = "updated_at"
    }

    /// The largest page there is (1000): enough for a prompt, small enough to keep one read short.
    public static let maximumLimit = 1000

    /// Items per page, 1…1000 (100).
    public var limit: Int
    /// Items to skip (after the cursor, when there is one).
    public var offset: Int
    /// The ``Page/nextCursor`` of the previous page: the list continues after its last item.
    public var cursor: String?
    /// The order (``Order/createdAt``).
    public var order: Order
    /// Newest first when `true` (`false`).
    public var descending: Bool

    /// Creates list options.
    public init(
        limit: Int = 100, offset: Int = 0, cursor: String? = nil, order: Order = .createdAt, descending: Bool = false
    ) {
        self.limit = limit
        self.offset = offset
        self.cursor = cursor
        self.order = order
        self.descending = descending
    }

    func validate() throws {
        guard (1...Self.maximumLimit).contains(limit) else {
            throw EngramError(.invalidArgument, "a limit must lie in 1…\(Self.maximumLimit), not \(limit)")
        }
        guard offset >= 0 else { throw EngramError(.invalidArgument, "an offset must be 0 or more, not \(offset)") }
        if let cursor, Self.parse(cursor) == nil {
            throw EngramError(.invalidArgument, "'\(cursor)' is not a cursor returned by a list")
        }
    }

    /// A cursor is `<order value in ms>:<id>`.
    static func parse(_ cursor: String) -> (Int64, String)? {
        guard let colon = cursor.firstIndex(of: ":"), let value = Int64(cursor[..<colon]) else { return nil }
        return (value, String(cursor[cursor.index(after: colon)...]))
    }

    /// Sorts, cuts and converts the filtered records.
    func page<T>(_ records: [MemoryNode], _ transform: (MemoryNode) throws -> T) throws -> Page<T> {
        let key = order.rawValue
        return try page(
            records, value: { $0.int(key) ?? $0.int("created_at") ?? $0.int("timestamp") ?? 0 }, id: \.id, transform)
    }

    /// Sorts `items` by `value` then `id` in this order, applies the cursor and offset, and
    /// converts the page's items only.
    func page<Item, T>(
        _ items: [Item], value: (Item) -> Int64, id: (Item) -> String, _ transform: (Item) throws -> T
    ) throws -> Page<T> {
        let keyed = items.map { (value: value($0), id: id($0), item: $0) }
        let before: ((Int64, String), (Int64, String)) -> Bool = { a, b in
            descending ? (a.0 > b.0 || (a.0 == b.0 && a.1 > b.1)) : (a.0 < b.0 || (a.0 == b.0 && a.1 < b.1))
        }
        var sorted = keyed.sorted { before(($0.value, $0.id), ($1.value, $1.id)) }
        if let cursor, let position = Self.parse(cursor) {
            sorted.removeAll { !before(position, ($0.value, $0.id)) }
        }
        let slice = sorted.dropFirst(offset).prefix(limit)
        let next =
            slice.count == limit && sorted.count > offset + limit ? slice.last.map { "\($0.value):\($0.id)" } : nil
        return Page(items: try slice.map { try transform($0.item) }, total: items.count, nextCursor: next)
    }
}

/// One page of a list.
public struct Page<Item: Sendable>: Sendable {
    /// The items of this page.
    public var items: [Item]
    /// How many items the whole list has (all pages, before offset and cursor).
    public var total: Int
    /// The cursor of the next page, or `nil` when this page is the last.
    public var nextCursor: String?
}

extension Page: Equatable where Item: Equatable {}
