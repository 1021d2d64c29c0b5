import MQTT
import MQTTTopics

/// A subscription's filter as the client wrote it: an ordinary topic
/// filter, or a shared subscription `$share/GROUP/FILTER` (MQTT 5 §4.8.2,
/// taken from 3.1.1 clients too, as Mosquitto does).
struct SubscriptionFilter: Hashable {
    /// What the client sent, the key of its subscription.
    let text: String
    /// The filter topics are matched against.
    let topicFilter: String
    /// The share name of a shared subscription.
    let shareName: String?

    private static let sharePrefix = "$share/"

    /// Whether `text` names a shared subscription (well formed or not).
    static func isShared(_ text: String) -> Bool { text.hasPrefix(sharePrefix) }

    /// Checks the filter by MQTT's rules and the broker's depth limit.
    init(_ text: String) throws(TopicRefusal) {
        self.text = text
        guard Self.isShared(text) else {
            try BrokerCore.validateFilter(text)
            topicFilter = text
            shareName = nil
            return
        }
        let rest = text.dropFirst(Self.sharePrefix.count)
        guard let slash = rest.firstIndex(of: "/") else { throw .invalidShare("no topic filter after the share name") }
        let name = rest[..<slash]
        guard !name.isEmpty, !name.contains(where: { $0 == "+" || $0 == "#" }) else {
            throw .invalidShare("the share name must be one level without wildcards")
        }
        let filter = String(rest[rest.index(after: slash)...])
        guard !filter.isEmpty else { throw .invalidShare("no topic filter after the share name") }
        try BrokerCore.validateFilter(filter)
        topicFilter = filter
        shareName = String(name)
    }

    var isShared: Bool { shareName != nil }
}

/// The members of one shared subscription group at one filter. Each message
/// goes to one member, in turn (round robin, as Mosquitto's default): the
/// member after the last one served that can take it now, that is, one
/// connected with room in its window; if none can, the next in turn, whose
/// session queues it.
///
/// A class: choosing a member moves the turn, during a routing pass that
/// only reads the subscription tree.
final class SharedGroup {
    private var members: [SubscriptionTrie.Entry] = []
    private var turn = 0

    var isEmpty: Bool { members.isEmpty }

    /// Adds or updates a member; returns whether it is new.
    func insert(_ subscriber: any Subscriber, options: SubscriptionOptions) -> Bool {
        if let index = members.firstIndex(where: { $0.subscriber === subscriber }) {
            members[index].options = options
            return false
        }
        members.append((subscriber, options))
        return true
    }

    /// Removes a member; returns whether it was one.
    func remove(_ subscriber: any Subscriber) -> Bool {
        guard let index = members.firstIndex(where: { $0.subscriber === subscriber }) else { return false }
        members.remove(at: index)
        if turn > index { turn -= 1 }
        if turn >= members.count { turn = 0 }
        return true
    }

    /// The member that receives the next message, and the turn moves past it.
    func next() -> SubscriptionTrie.Entry? {
        guard !members.isEmpty else { return nil }
        let start = turn % members.count
        var chosen = start
        for offset in 0..<members.count {
            let index = (start + offset) % members.count
            if members[index].subscriber.canTakeSharedMessage {
                chosen = index
                break
            }
        }
        turn = (chosen + 1) % members.count
        return members[chosen]
    }
}
