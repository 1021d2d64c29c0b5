import MQTT
import NIOCore

extension ConnectionHandler {
    /// Sends a message to this client as `delivery` says, with the packet
    /// id and DUP flag of its flow (QoS 1 and 2). To an MQTT 5 client it
    /// goes with its properties, the expiry counted down, the subscription
    /// identifiers and a topic alias where the client allows them; it is not
    /// sent, and false is returned, when larger than the client's Maximum
    /// Packet Size. A QoS 0 message that every subscriber of its version
    /// gets alike is encoded once per routing pass, in `encoded`.
    @discardableResult
    func send(
        _ message: BrokerMessage, _ delivery: Delivery, packetID: UInt16 = 0, dup: Bool = false,
        encoded: inout SharedEncoding
    ) -> Bool {
        func makePublish() -> PublishPacket {
            PublishPacket(
                topic: message.topic, payload: message.message.payload, qos: delivery.qos, retain: delivery.retain,
                dup: dup, packetID: packetID)
        }
        let isPlain = delivery.qos == .atMostOnce && !delivery.retain
        guard version == .v5 else {
            // A fan-out's subscribers after the first take the cached bytes: no packet is made for them.
            if isPlain { sendShared(makePublish(), encoded: &encoded) } else { send(.publish(makePublish())) }
            return true
        }
        var publish = makePublish()
        publish.properties = message.propertiesToSend(at: .now())
        // Set only when there are some: setting a property allocates the properties' storage.
        if !delivery.subscriptionIdentifiers.isEmpty { publish.properties.subscriptionIdentifiers = delivery.subscriptionIdentifiers }
        if let limit = clientMaximumPacketSize {
            guard let size = try? Packet.publish(publish).encodedSize(version: .v5), size <= limit else { return false }
        }
        if isPlain, delivery.subscriptionIdentifiers.isEmpty, aliases.outboundMaximum == 0, message.expiry == nil {
            sendShared(publish, encoded: &encoded)
        } else {
            aliases.abbreviate(&publish)
            send(.publish(publish))
        }
        return true
    }

    private func sendShared(_ publish: @autoclosure () -> PublishPacket, encoded: inout SharedEncoding) {
        let version = self.version
        do {
            send(try encoded.encoding(for: version) { () throws(MQTTProtocolError) in
                try EncodedPublish(publish(), version: version)
            })
        } catch {
            // Every topic is checked before it is routed: this fails only on a bug.
            core.statistics.droppedMessages += 1
            log(.error, "could not encode PUBLISH: \(error)")
        }
    }
}
