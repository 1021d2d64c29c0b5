import NIOCore

/// An application message as subscribers see it: what the broker's
/// in-process API and the client hand to their subscribers.
public struct MQTTMessage: Sendable, Hashable {
    public var topic: String
    public var payload: ByteBuffer
    public var qos: QoS
    /// Set when the message comes from the retained store (on subscribe), or
    /// when a publisher's retained message is delivered as such.
    public var retain: Bool
    /// MQTT 5: the publication's own properties, which a broker passes on
    /// unchanged (payload format, message expiry, content type, response
    /// topic, correlation data, user properties). Empty for MQTT 3.1.1.
    public var properties: Properties

    public init(
        topic: String, payload: ByteBuffer, qos: QoS = .atMostOnce, retain: Bool = false,
        properties: Properties = Properties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }

    public init(topic: String, payload: String, qos: QoS = .atMostOnce, retain: Bool = false) {
        self.init(topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain)
    }

    /// The payload read as UTF-8; invalid sequences become U+FFFD.
    public var payloadString: String { String(buffer: payload) }
}

extension Properties {
    /// The properties of a PUBLISH that belong to its message and travel
    /// with it from publisher to subscribers (§3.3.2.3): not the topic alias
    /// or subscription identifiers, which belong to one connection.
    public var forwarded: Properties {
        var kept = Properties()
        guard !isEmpty else { return kept }
        kept.payloadFormatIndicator = self.payloadFormatIndicator
        kept.messageExpiryInterval = self.messageExpiryInterval
        kept.contentType = self.contentType
        kept.responseTopic = self.responseTopic
        kept.correlationData = self.correlationData
        kept.userProperties = self.userProperties
        return kept
    }
}
