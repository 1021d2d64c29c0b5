/// The MQTT 5 topic aliases of one connection (§3.3.2.3.4), both ways: they
/// live and die with the connection, not the session. The broker and the
/// client keep one each.
public struct TopicAliases: Sendable {
    /// The highest alias the peer may set up: the Topic Alias Maximum this
    /// side announced.
    public let inboundMaximum: Int
    /// The highest alias this side may use: the peer's Topic Alias Maximum.
    public let outboundMaximum: Int
    private var inbound: [UInt16: String] = [:]
    private var outbound: [String: UInt16] = [:]

    public init(inboundMaximum: Int, outboundMaximum: Int) {
        self.inboundMaximum = inboundMaximum
        self.outboundMaximum = outboundMaximum
    }

    /// Why a peer's PUBLISH breaks the alias rules.
    public struct Misuse: Error, Sendable, CustomStringConvertible {
        /// What to DISCONNECT with: Topic Alias invalid, or Protocol Error.
        public let reasonCode: MQTTReasonCode
        public let description: String
    }

    /// Resolves a received PUBLISH: a topic with an alias sets the alias up,
    /// an empty topic with an alias stands for the topic set up before.
    /// Returns the topic name.
    public mutating func resolve(_ publish: PublishPacket) throws(Misuse) -> String {
        guard let alias = publish.properties.topicAlias else { return publish.topic }
        guard alias > 0, Int(alias) <= inboundMaximum else {
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

    /// Shortens a PUBLISH to the peer with an alias: the topic's alias if
    /// it has one (the topic then goes empty), a new alias while there are
    /// free ones (the topic goes with it, once), or nothing once all are taken.
    public mutating func abbreviate(_ publish: inout PublishPacket) {
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
