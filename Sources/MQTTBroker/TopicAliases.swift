import MQTT

/// The MQTT 5 topic aliases of one connection (§3.3.2.3.4), both ways: they
/// live and die with the connection, not the session.
struct TopicAliases {
    /// The highest alias the client may set up: the broker's `max_topic_alias`.
    let inboundMaximum: Int
    /// The highest alias the broker may use: the client's Topic Alias Maximum.
    let outboundMaximum: Int
    private var inbound: [UInt16: String] = [:]
    private var outbound: [String: UInt16] = [:]

    init(inboundMaximum: Int, outboundMaximum: Int) {
        self.inboundMaximum = inboundMaximum
        self.outboundMaximum = outboundMaximum
    }

    /// Why a client's PUBLISH breaks the alias rules.
    struct Misuse: Error {
        let reasonCode: MQTTReasonCode
        let description: String
    }

    /// Resolves a client's PUBLISH: a topic with an alias sets the alias up,
    /// an empty topic with an alias stands for the topic set up before.
    /// Returns the topic name.
    mutating func resolve(_ publish: PublishPacket) throws(Misuse) -> String {
        guard let alias = publish.properties.topicAlias else { return publish.topic }
        guard Int(alias) <= inboundMaximum else {
            throw Misuse(
                reasonCode: .topicAliasInvalid,
                description: "topic alias \(alias) is above the maximum of \(inboundMaximum)")
        }
        if publish.topic.isEmpty {
            guard let topic = inbound[alias] else {
                throw Misuse(reasonCode: .protocolError, description: "topic alias \(alias) was never set up")
            }
            return topic
        }
        inbound[alias] = publish.topic
        return publish.topic
    }

    /// Shortens a PUBLISH to the client with an alias: the topic's alias if
    /// it has one (the topic then goes empty), a new alias while there are
    /// free ones (the topic goes with it, once), or nothing once all are taken.
    mutating func abbreviate(_ publish: inout PublishPacket) {
        guard outboundMaximum > 0 else { return }
        if let alias = outbound[publish.topic] {
            publish.topic = ""
            publish.properties.topicAlias = alias
        } else if outbound.count < outboundMaximum {
            let alias = UInt16(outbound.count + 1)
            outbound[publish.topic] = alias
            publish.properties.topicAlias = alias
        }
    }
}
