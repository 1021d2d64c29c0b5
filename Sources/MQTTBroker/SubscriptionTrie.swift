import MQTT
import MQTTTopics

/// What one subscription asks for: the highest QoS, and MQTT 5's options.
struct SubscriptionOptions: Equatable {
    var qos: QoS
    /// Messages from the subscriber's own connection are not sent back.
    var noLocal = false
    /// Forwarded messages keep the RETAIN flag they were published with.
    var retainAsPublished = false
    /// Sent with every message this subscription matches.
    var identifier: Int?

    init(qos: QoS, noLocal: Bool = false, retainAsPublished: Bool = false, identifier: Int? = nil) {
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.identifier = identifier
    }

    init(_ request: TopicSubscription, identifier: Int?) {
        self.init(
            qos: request.qos, noLocal: request.noLocal, retainAsPublished: request.retainAsPublished,
            identifier: identifier)
    }
}

/// Topic filters and their subscribers, in a `TopicTree` so that a publish
/// visits only the branches its topic can match. A shared subscription
/// (`$share/GROUP/FILTER`) is kept at its filter, in its group.
struct SubscriptionTrie {
    typealias Entry = (subscriber: any Subscriber, options: SubscriptionOptions)

    private struct Subscribers {
        /// Ordinary subscriptions, by subscriber.
        var direct: [ObjectIdentifier: Entry] = [:]
        /// Shared subscriptions, by group name.
        var shared: [String: SharedGroup] = [:]

        var isEmpty: Bool { direct.isEmpty && shared.isEmpty }
    }

    private var tree = TopicTree<Subscribers>()
    /// The number of (subscriber, filter) pairs stored.
    private(set) var count = 0

    /// Adds or replaces the subscription of `subscriber` to `filter` (valid).
    mutating func insert(_ filter: SubscriptionFilter, options: SubscriptionOptions, for subscriber: any Subscriber) {
        let added = tree.modifyPayload(at: filter.topicFilter) { entries in
            if entries == nil { entries = Subscribers() }
            guard let group = filter.shareName else {
                return entries!.direct.updateValue((subscriber, options), forKey: ObjectIdentifier(subscriber)) == nil
            }
            let members = entries!.shared[group] ?? SharedGroup()
            entries!.shared[group] = members
            return members.insert(subscriber, options: options)
        }
        if added { count += 1 }
    }

    /// Removes the subscription; returns whether there was one.
    @discardableResult
    mutating func remove(_ filter: SubscriptionFilter, for subscriber: any Subscriber) -> Bool {
        let removed = tree.modifyPayload(at: filter.topicFilter) { entries in
            let removed: Bool
            if let group = filter.shareName {
                removed = entries?.shared[group]?.remove(subscriber) ?? false
                if entries?.shared[group]?.isEmpty == true { entries?.shared[group] = nil }
            } else {
                removed = entries?.direct.removeValue(forKey: ObjectIdentifier(subscriber)) != nil
            }
            if entries?.isEmpty == true { entries = nil }
            return removed
        }
        if removed { count -= 1 }
        return removed
    }

    /// Calls `direct` once per ordinary subscription matching the topic name
    /// (a subscriber with overlapping filters once per filter), and `shared`
    /// once per matching group, with the member chosen to receive the
    /// message (`SharedGroup.next`).
    func forEachMatch(of topic: String, direct: (Entry) -> Void, shared: (Entry) -> Void) {
        tree.forEachPayload(ofFiltersMatching: topic) { entries in
            for entry in entries.direct.values { direct(entry) }
            for group in entries.shared.values {
                if let member = group.next() { shared(member) }
            }
        }
    }
}
