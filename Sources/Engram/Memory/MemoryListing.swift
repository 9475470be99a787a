import EngramCore
import Foundation
import HeapModule

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

    /// Orders, cuts and converts the filtered records.
    func page<T>(_ records: [MemoryNode], _ transform: (MemoryNode) throws -> T) throws -> Page<T> {
        let key = order.rawValue
        return try page(
            records, value: { $0.int(key) ?? $0.int("created_at") ?? $0.int("timestamp") ?? 0 }, id: \.id, transform)
    }

    /// Orders `items` by `value` then `id` in this order, applies the cursor and offset, and
    /// converts the page's items only.
    ///
    /// - Complexity: O(n log k) for n items and k = offset + limit: the page is selected with a
    ///   bounded heap, not by sorting every item.
    func page<Item, T>(
        _ items: [Item], value: (Item) -> Int64, id: (Item) -> String, _ transform: (Item) throws -> T
    ) throws -> Page<T> {
        let start = cursor.flatMap(Self.parse).map { ListPosition(value: $0.0, id: $0.1, descending: descending) }
        // One more than the page, to know whether a next page exists.
        let wanted = offset + limit + 1
        var best = Heap<Ranked>()
        for (index, item) in items.enumerated() {
            let position = ListPosition(value: value(item), id: id(item), descending: descending)
            if let start, !(start < position) { continue }
            if best.count < wanted {
                best.insert(Ranked(position: position, index: index))
            } else if position < best.max!.position {
                best.replaceMax(with: Ranked(position: position, index: index))
            }
        }
        var ordered: [Ranked] = []
        ordered.reserveCapacity(best.count)
        while let next = best.popMin() { ordered.append(next) }
        let slice = ordered.dropFirst(offset).prefix(limit)
        let next = slice.count == limit && ordered.count == wanted ? slice.last.map(\.position.cursor) : nil
        return Page(items: try slice.map { try transform(items[$0.index]) }, total: items.count, nextCursor: next)
    }
}

/// Where an item stands in a list: its order value, then its id, reversed for a descending list.
private struct ListPosition: Comparable {
    var value: Int64
    var id: String
    var descending: Bool

    var cursor: String { "\(value):\(id)" }

    static func < (a: ListPosition, b: ListPosition) -> Bool {
        a.descending
            ? (a.value > b.value || (a.value == b.value && a.id > b.id))
            : (a.value < b.value || (a.value == b.value && a.id < b.id))
    }
}

/// An item's position and its index in the candidates, ordered by position.
private struct Ranked: Comparable {
    var position: ListPosition
    var index: Int

    static func < (a: Ranked, b: Ranked) -> Bool { a.position < b.position }
    static func == (a: Ranked, b: Ranked) -> Bool { a.position == b.position }
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
