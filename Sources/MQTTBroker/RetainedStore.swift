import MQTT
import MQTTTopics

/// The last retained message of every topic, in a `TopicTree` so that a
/// wildcard subscription finds its matches without scanning them all.
struct RetainedStore {
    private var tree = TopicTree<MQTTMessage>()

    /// The number of topics holding a retained message.
    var count: Int { tree.count }

    /// Keeps `message` as the topic's retained message; an empty payload
    /// clears it instead (§3.3.1.3).
    mutating func store(_ message: MQTTMessage) {
        tree.modifyPayload(at: message.topic) { retained in
            retained = message.payload.readableBytes == 0 ? nil : message
        }
    }

    /// The retained message of one topic.
    func message(for topic: String) -> MQTTMessage? {
        tree.payload(at: topic)
    }

    /// Every retained message whose topic matches `filter` (valid).
    func matches(_ filter: String) -> [MQTTMessage] {
        var found: [MQTTMessage] = []
        tree.forEachPayload(ofTopicsMatchedBy: filter) { found.append($0) }
        return found
    }
}
