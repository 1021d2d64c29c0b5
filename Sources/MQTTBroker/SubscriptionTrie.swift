import MQTT

/// Topic filters and their subscribers, stored level by level so that a
/// publish visits only the branches its topic can match.
struct SubscriptionTrie {
    private final class Node {
        var children: [String: Node] = [:]
        var singleLevel: Node?
        var multiLevel: Node?
        /// Subscribers whose filter ends at this node.
        var subscribers: [ObjectIdentifier: (subscriber: any Subscriber, qos: QoS)] = [:]

        var isEmpty: Bool {
            children.isEmpty && singleLevel == nil && multiLevel == nil && subscribers.isEmpty
        }
    }

    private let root = Node()
    /// The number of (subscriber, filter) pairs stored.
    private(set) var count = 0

    /// Adds or replaces the subscription of `subscriber` to `filter` (valid).
    mutating func insert(_ filter: String, qos: QoS, for subscriber: any Subscriber) {
        var node = root
        for level in Topic.levels(filter) {
            node = child(of: node, level: level)
        }
        let key = ObjectIdentifier(subscriber)
        if node.subscribers.updateValue((subscriber, qos), forKey: key) == nil { count += 1 }
    }

    /// Removes the subscription; returns whether there was one.
    @discardableResult
    mutating func remove(_ filter: String, for subscriber: any Subscriber) -> Bool {
        let removed = Self.remove(levels: Topic.levels(filter)[...], from: root, key: ObjectIdentifier(subscriber))
        if removed { count -= 1 }
        return removed
    }

    /// Calls `body` once per subscription matching the topic name. A
    /// subscriber with overlapping filters is reported once per filter.
    func forEachMatch(of topic: String, _ body: (any Subscriber, QoS) -> Void) {
        let levels = Topic.levels(topic)
        // §4.7.2: a filter starting with a wildcard does not match a `$` topic.
        Self.match(levels[...], node: root, skipWildcards: Topic.isSystem(topic), body)
    }

    private func child(of node: Node, level: Substring) -> Node {
        switch level {
        case "+":
            if let next = node.singleLevel { return next }
            let next = Node()
            node.singleLevel = next
            return next
        case "#":
            if let next = node.multiLevel { return next }
            let next = Node()
            node.multiLevel = next
            return next
        default:
            let key = String(level)
            if let next = node.children[key] { return next }
            let next = Node()
            node.children[key] = next
            return next
        }
    }

    private static func remove(levels: ArraySlice<Substring>, from node: Node, key: ObjectIdentifier) -> Bool {
        guard let level = levels.first else {
            return node.subscribers.removeValue(forKey: key) != nil
        }
        let rest = levels.dropFirst()
        switch level {
        case "+":
            guard let next = node.singleLevel, remove(levels: rest, from: next, key: key) else { return false }
            if next.isEmpty { node.singleLevel = nil }
        case "#":
            guard let next = node.multiLevel, remove(levels: rest, from: next, key: key) else { return false }
            if next.isEmpty { node.multiLevel = nil }
        default:
            let name = String(level)
            guard let next = node.children[name], remove(levels: rest, from: next, key: key) else { return false }
            if next.isEmpty { node.children[name] = nil }
        }
        return true
    }

    private static func match(
        _ levels: ArraySlice<Substring>, node: Node, skipWildcards: Bool, _ body: (any Subscriber, QoS) -> Void
    ) {
        if !skipWildcards, let multi = node.multiLevel {
            // `a/#` matches `a` itself and everything below it.
            for entry in multi.subscribers.values { body(entry.subscriber, entry.qos) }
        }
        guard let level = levels.first else {
            for entry in node.subscribers.values { body(entry.subscriber, entry.qos) }
            return
        }
        let rest = levels.dropFirst()
        if let next = node.children[String(level)] {
            match(rest, node: next, skipWildcards: false, body)
        }
        if !skipWildcards, let next = node.singleLevel {
            match(rest, node: next, skipWildcards: false, body)
        }
    }
}
