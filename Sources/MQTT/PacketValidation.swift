import MQTTTopics

extension Packet {
    /// Checks the rules of MQTT 3.1.1 that go beyond the wire syntax: packet
    /// identifiers, topic names, DUP on QoS 0, filter lists, return codes.
    ///
    /// The decoder applies them to what it reads and the encoder to what it
    /// writes, so that we never send what we would refuse to receive.
    func validate() throws(MQTTProtocolError) {
        switch self {
        case .connect(let connect):
            if let will = connect.will { try Self.validateTopicName(will.topic) }
            if connect.password != nil && connect.username == nil { throw .inconsistentConnectFlags }
        case .publish(let publish):
            try Self.validateTopicName(publish.topic)
            if publish.qos == .atMostOnce {
                if publish.dup { throw .invalidQoS(.publish) }
            } else {
                try Self.validatePacketID(publish.packetID, in: .publish)
            }
        case .puback(let ack), .pubrec(let ack), .pubrel(let ack), .pubcomp(let ack), .unsuback(let ack):
            try Self.validatePacketID(ack.packetID, in: type)
        case .subscribe(let subscribe):
            try Self.validatePacketID(subscribe.packetID, in: .subscribe)
            if subscribe.subscriptions.isEmpty { throw .noTopicFilters(.subscribe) }
        case .suback(let suback):
            try Self.validatePacketID(suback.packetID, in: .suback)
            if let invalid = suback.returnCodes.first(where: { $0.grantedQoS == nil && $0 != .failure }) {
                throw .invalidReturnCode(invalid.rawValue)
            }
        case .unsubscribe(let unsubscribe):
            try Self.validatePacketID(unsubscribe.packetID, in: .unsubscribe)
            if unsubscribe.filters.isEmpty { throw .noTopicFilters(.unsubscribe) }
        case .connack, .pingreq, .pingresp, .disconnect:
            break
        }
    }

    private static func validateTopicName(_ topic: String) throws(MQTTProtocolError) {
        do { try Topic.validateName(topic) } catch { throw .invalidTopicName(topic) }
    }

    private static func validatePacketID(_ id: UInt16, in type: PacketType) throws(MQTTProtocolError) {
        if id == 0 { throw .zeroPacketID(type) }
    }
}
