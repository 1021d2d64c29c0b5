import MQTT
import MQTTTopics

/// Identifies one local subscription of a client; rising in creation order.
struct SubscriptionID: Hashable, Comparable, Sendable {
    var rawValue: UInt64
    static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where a local subscription's messages go.
enum MessageSink {
    /// A bounded stream that keeps the newest messages when its consumer lags.
    case stream(AsyncStream<MQTTMessage>.Continuation)
    /// A closure called on the connection's event loop.
    case handler(@Sendable (MQTTMessage) -> Void)

    func finish() {
        if case .stream(let continuation) = self { continuation.finish() }
    }
}

/// The client's local subscriptions and the routing of incoming messages to them.
///
/// Several local subscriptions may share or overlap filters; each one that
/// matches gets every message once, in the order the broker sent them, even
/// though the broker sends a single copy. Matching is a linear scan in
/// creation order over compiled filters; a client holds few subscriptions,
/// unlike a broker.
struct SubscriptionRegistry {
    struct Entry {
        let id: SubscriptionID
        let filters: [TopicSubscription]
        let sink: MessageSink
        /// Set by SUBACK; until then the broker may not have the filters yet.
        var isConfirmed = false
        /// Messages the stream dropped because its consumer lagged.
        var droppedCount = 0
        /// The filters compiled once: matched byte by byte, as the broker does.
        fileprivate let compiled: [TopicFilter]

        func matches(_ topic: String) -> Bool {
            var topic = topic
            return topic.withUTF8 { bytes in compiled.contains { $0.matches(bytes) } }
        }
    }

    /// Sorted by id, so dispatch follows creation order.
    private(set) var entries: [Entry] = []
    private var nextID: UInt64 = 1

    var isEmpty: Bool { entries.isEmpty }

    mutating func add(_ filters: [TopicSubscription], sink: MessageSink) -> SubscriptionID {
        let id = SubscriptionID(rawValue: nextID)
        nextID += 1
        entries.append(Entry(id: id, filters: filters, sink: sink, compiled: filters.map { TopicFilter(compiling: $0.filter) }))
        return id
    }

    mutating func confirm(_ id: SubscriptionID) {
        guard let index = index(of: id) else { return }
        entries[index].isConfirmed = true
    }

    /// Removes a subscription and finishes its stream; nil if it was gone.
    @discardableResult
    mutating func remove(_ id: SubscriptionID) -> Entry? {
        guard let index = index(of: id) else { return nil }
        let entry = entries.remove(at: index)
        entry.sink.finish()
        return entry
    }

    /// Removes every subscription and finishes their streams.
    mutating func removeAll() {
        let removed = entries
        entries.removeAll()
        for entry in removed { entry.sink.finish() }
    }

    func droppedCount(of id: SubscriptionID) -> Int {
        index(of: id).map { entries[$0].droppedCount } ?? 0
    }

    /// Whether any remaining subscription still needs `filter` at the broker.
    func isInUse(_ filter: String) -> Bool {
        entries.contains { $0.filters.contains { $0.filter == filter } }
    }

    /// The filters of confirmed subscriptions, each once at the highest QoS
    /// asked for it, in creation order: what a broker that lost the session
    /// must be told again.
    func confirmedFilters() -> [TopicSubscription] {
        var result: [TopicSubscription] = []
        var positions: [String: Int] = [:]
        for entry in entries where entry.isConfirmed {
            for subscription in entry.filters {
                if let position = positions[subscription.filter] {
                    result[position].qos = max(result[position].qos, subscription.qos)
                } else {
                    positions[subscription.filter] = result.count
                    result.append(subscription)
                }
            }
        }
        return result
    }

    /// A subscription whose stream just overflowed, with its total drop count.
    struct Overflow {
        var id: SubscriptionID
        var filters: [TopicSubscription]
        var droppedCount: Int
    }

    /// Hands `message` to every matching subscription; returns how many got
    /// it and the streams that had to drop their oldest message for it.
    mutating func dispatch(_ message: MQTTMessage) -> (deliveries: Int, overflows: [Overflow]) {
        var deliveries = 0
        var overflows: [Overflow] = []
        for index in entries.indices where entries[index].matches(message.topic) {
            deliveries += 1
            switch entries[index].sink {
            case .handler(let handler):
                handler(message)
            case .stream(let continuation):
                if case .dropped = continuation.yield(message) {
                    entries[index].droppedCount += 1
                    let entry = entries[index]
                    overflows.append(Overflow(id: entry.id, filters: entry.filters, droppedCount: entry.droppedCount))
                }
            }
        }
        return (deliveries, overflows)
    }

    private func index(of id: SubscriptionID) -> Int? {
        // Ids rise with position, so a binary search finds the entry.
        var low = 0
        var high = entries.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if entries[middle].id == id { return middle }
            if entries[middle].id < id { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}
