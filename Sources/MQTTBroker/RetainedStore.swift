import MQTT

/// The last retained message of every topic, in a tree of topic levels so
/// that a wildcard subscription finds its matches without scanning them all.
struct RetainedStore {
    private final class Node {
        var children: [String: Node] = [:]
        var message: MQTTMessage?
    }

    private let root = Node()
    /// The number of topics holding a retained message.
    private(set) var count = 0

    /// Keeps `message` as the topic's retained message; an empty payload
    /// clears it instead (§3.3.1.3).
    mutating func store(_ message: MQTTMessage) {
        if message.payload.readableBytes == 0 {
            clear(message.topic)
            return
        }
        var node = root
        for level in Topic.levels(message.topic) {
            let key = String(level)
            if let next = node.children[key] {
                node = next
            } else {
                let next = Node()
                node.children[key] = next
                node = next
            }
        }
        if node.message == nil { count += 1 }
        node.message = message
    }

    private mutating func clear(_ topic: String) {
        var path: [(Node, String)] = []
        var node = root
        for level in Topic.levels(topic) {
            let key = String(level)
            guard let next = node.children[key] else { return }
            path.append((node, key))
            node = next
        }
        guard node.message != nil else { return }
        node.message = nil
        count -= 1
        // Prune the branch back up to the first node still in use.
        for (parent, key) in path.reversed() {
            guard let child = parent.children[key], child.message == nil, child.children.isEmpty else { break }
            parent.children[key] = nil
        }
    }

    /// The retained message of one topic.
    func message(for topic: String) -> MQTTMessage? {
        var node = root
        for level in Topic.levels(topic) {
            guard let next = node.children[String(level)] else { return nil }
            node = next
        }
        return node.message
    }

    /// Every retained message whose topic matches `filter` (valid).
    func matches(_ filter: String) -> [MQTTMessage] {
        var found: [MQTTMessage] = []
        Self.collect(Topic.levels(filter)[...], node: root, atRoot: true, into: &found)
        return found
    }

    private static func collect(_ levels: ArraySlice<Substring>, node: Node, atRoot: Bool, into found: inout [MQTTMessage]) {
        guard let level = levels.first else {
            if let message = node.message { found.append(message) }
            return
        }
        let rest = levels.dropFirst()
        switch level {
        case "#":
            if let message = node.message { found.append(message) }
            for (key, child) in node.children where !(atRoot && key.hasPrefix("$")) {
                collectAll(child, into: &found)
            }
        case "+":
            for (key, child) in node.children where !(atRoot && key.hasPrefix("$")) {
                collect(rest, node: child, atRoot: false, into: &found)
            }
        default:
            if let child = node.children[String(level)] {
                collect(rest, node: child, atRoot: false, into: &found)
            }
        }
    }

    private static func collectAll(_ node: Node, into found: inout [MQTTMessage]) {
        if let message = node.message { found.append(message) }
        for child in node.children.values { collectAll(child, into: &found) }
    }
}
