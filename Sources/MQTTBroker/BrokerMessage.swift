import MQTT
import NIOCore

/// A message inside the broker: what was published, and until when it may
/// still be delivered (MQTT 5's message expiry, counted from its arrival).
struct BrokerMessage {
    var message: MQTTMessage
    /// Nil for a message without an expiry interval: it never expires.
    let expiry: NIODeadline?

    init(_ message: MQTTMessage, receivedAt now: @autoclosure () -> NIODeadline = .now()) {
        self.message = message
        // Most messages have no properties: they skip the key-path read.
        expiry = message.properties.isEmpty ? nil : message.properties.messageExpiryInterval.map { now() + .seconds(Int64($0)) }
    }

    var topic: String { message.topic }

    func isExpired(at now: NIODeadline) -> Bool {
        expiry.map { $0 <= now } ?? false
    }

    /// The properties to send on: the expiry interval is what is left of it
    /// (§3.3.2.3.3), at least a second while the message is deliverable.
    func propertiesToSend(at now: @autoclosure () -> NIODeadline) -> Properties {
        guard let expiry else { return message.properties }
        var properties = message.properties
        let left = (expiry - now()).nanoseconds
        properties.messageExpiryInterval = UInt32(clamping: max(1, (left + 999_999_999) / 1_000_000_000))
        return properties
    }
}

/// How one message goes to one subscriber: decided when it is routed, from
/// the subscriptions of that subscriber it matched.
struct Delivery {
    /// The lower of the published QoS and the highest granted.
    var qos: QoS
    /// The RETAIN flag it goes out with: set for retained messages sent on
    /// subscribing, and with Retain As Published.
    var retain: Bool
    /// MQTT 5: the identifiers of the matching subscriptions that have one.
    var subscriptionIdentifiers: [Int] = []
}

/// A QoS 1 or 2 message on its way to one client: what `OutgoingFlows`
/// holds for a session.
struct Outgoing: FlowMessage {
    var message: BrokerMessage
    var delivery: Delivery

    package var qos: QoS { delivery.qos }
    package var byteCount: Int { message.message.byteCount }
    package func isExpired(at now: NIODeadline) -> Bool { message.isExpired(at: now) }
}
