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

    public init(topic: String, payload: ByteBuffer, qos: QoS = .atMostOnce, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }

    public init(topic: String, payload: String, qos: QoS = .atMostOnce, retain: Bool = false) {
        self.init(topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain)
    }

    /// The payload read as UTF-8; invalid sequences become U+FFFD.
    public var payloadString: String { String(buffer: payload) }
}
