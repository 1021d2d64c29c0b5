import MQTT
import MQTTTopics

/// Topic filters and their subscribers, in a `TopicTree` so that a publish
/// visits only the branches its topic can match.
struct SubscriptionTrie {
    private typealias Entry = (subscriber: any Subscriber, qos: QoS)
    /// Subscribers whose filter ends at a node, by identity.
    private var tree = TopicTree<[ObjectIdentifier: Entry]>()
    /// The number of (subscriber, filter) pairs stored.
    private(set) var count = 0

    /// Adds or replaces the subscription of `subscriber` to `filter` (valid).
    mutating func insert(_ filter: String, qos: QoS, for subscriber: any Subscriber) {
        let added = tree.modifyPayload(at: filter) { entries in
            if entries == nil { entries = [:] }
            return entries!.updateValue((subscriber, qos), forKey: ObjectIdentifier(subscriber)) == nil
        }
        if added { count += 1 }
    }

    /// Removes the subscription; returns whether there was one.
    @discardableResult
    mutating func remove(_ filter: String, for subscriber: any Subscriber) -> Bool {
        let removed = tree.modifyPayload(at: filter) { entries in
            let removed = entries?.removeValue(forKey: ObjectIdentifier(subscriber)) != nil
            if entries?.isEmpty == true { entries = nil }
            return removed
        }
        if removed { count -= 1 }
        return removed
    }

    /// Calls `body` once per subscription matching the topic name. A
    /// subscriber with overlapping filters is reported once per filter.
    func forEachMatch(of topic: String, _ body: (any Subscriber, QoS) -> Void) {
        tree.forEachPayload(ofFiltersMatching: topic) { entries in
            for entry in entries.values { body(entry.subscriber, entry.qos) }
        }
    }
}
