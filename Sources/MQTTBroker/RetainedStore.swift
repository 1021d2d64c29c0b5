import MQTT
import MQTTTopics
import NIOCore

/// The last retained message of every topic, in a `TopicTree` so that a
/// wildcard subscription finds its matches without scanning them all.
struct RetainedStore {
    private var tree = TopicTree<BrokerMessage>()

    /// The number of topics holding a retained message, expired ones
    /// included until the topic's next retained message replaces them.
    var count: Int { tree.count }

    /// Keeps `message` as the topic's retained message; an empty payload
    /// clears it instead (§3.3.1.3).
    mutating func store(_ message: BrokerMessage) {
        tree.modifyPayload(at: message.topic) { retained in
            retained = message.message.payload.readableBytes == 0 ? nil : message
        }
    }

    /// Every retained message whose topic matches `filter` (valid) and
    /// whose expiry interval has not run out by `now`.
    func matches(_ filter: String, at now: NIODeadline) -> [BrokerMessage] {
        var found: [BrokerMessage] = []
        tree.forEachPayload(ofTopicsMatchedBy: filter) { message in
            if !message.isExpired(at: now) { found.append(message) }
        }
        return found
    }
}
