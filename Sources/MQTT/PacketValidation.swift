import MQTTTopics

extension Packet {
    /// Checks the rules that go beyond the wire syntax: packet identifiers,
    /// topic names, DUP on QoS 0, filter lists, return and reason codes; and,
    /// before MQTT 5, that the packet carries nothing only MQTT 5 can.
    ///
    /// The decoder applies them to what it reads and the encoder to what it
    /// writes, so that we never send what we would refuse to receive.
    /// Properties are checked where they are read and measured
    /// (`Properties.read`, `Properties.encodedLength`).
    func validate(version: ProtocolVersion) throws(MQTTProtocolError) {
        let isV5 = version == .v5
        if !isV5, carriesMQTT5Fields { throw .requiresMQTT5(type) }
        switch self {
        case .connect(let connect):
            if let will = connect.will { try Self.validateTopicName(will.topic) }
            // MQTT 5 allows a password without a user name (§3.1.2.9).
            if !isV5, connect.password != nil && connect.username == nil { throw .inconsistentConnectFlags }
        case .connack(let connack):
            if isV5 { try Self.validateReasonCode(connack.reasonCode, in: .connack) }
        case .publish(let publish):
            // In MQTT 5 a topic alias may stand for the topic (§3.3.2.3.4).
            if !(isV5 && publish.topic.isEmpty && publish.properties.topicAlias != nil) {
                try Self.validateTopicName(publish.topic)
            }
            if publish.qos == .atMostOnce {
                if publish.dup { throw .invalidQoS(.publish) }
            } else {
                try Self.validatePacketID(publish.packetID, in: .publish)
            }
        case .puback(let ack), .pubrec(let ack), .pubrel(let ack), .pubcomp(let ack):
            try Self.validatePacketID(ack.packetID, in: type)
            try Self.validateReasonCode(ack.reasonCode, in: type)
            if let stray = ack.reasonCodes.first { throw .invalidReasonCode(type, stray.rawValue) }
        case .unsuback(let ack):
            try Self.validatePacketID(ack.packetID, in: .unsuback)
            if ack.reasonCode != .success { throw .invalidReasonCode(.unsuback, ack.reasonCode.rawValue) }
            for code in ack.reasonCodes { try Self.validateReasonCode(code, in: .unsuback) }
        case .subscribe(let subscribe):
            try Self.validatePacketID(subscribe.packetID, in: .subscribe)
            if subscribe.subscriptions.isEmpty { throw .noTopicFilters(.subscribe) }
        case .suback(let suback):
            try Self.validatePacketID(suback.packetID, in: .suback)
            if isV5 {
                for code in suback.returnCodes { try Self.validateReasonCode(code.reasonCode, in: .suback) }
            } else if let invalid = suback.returnCodes.first(where: { $0.grantedQoS == nil && $0 != .failure }) {
                throw .invalidReturnCode(invalid.rawValue)
            }
        case .unsubscribe(let unsubscribe):
            try Self.validatePacketID(unsubscribe.packetID, in: .unsubscribe)
            if unsubscribe.filters.isEmpty { throw .noTopicFilters(.unsubscribe) }
        case .disconnect(let disconnect):
            try Self.validateReasonCode(disconnect.reasonCode, in: .disconnect)
        case .auth(let auth):
            try Self.validateReasonCode(auth.reasonCode, in: .auth)
        case .pingreq, .pingresp:
            break
        }
    }

    /// Whether the packet holds a field that MQTT 3.1.1 cannot express:
    /// properties, a reason code, MQTT 5 subscription options, or AUTH.
    private var carriesMQTT5Fields: Bool {
        switch self {
        case .connect(let connect): !connect.properties.isEmpty || !(connect.will?.properties.isEmpty ?? true)
        case .connack(let connack): !connack.properties.isEmpty
        case .publish(let publish): !publish.properties.isEmpty
        case .puback(let ack), .pubrec(let ack), .pubrel(let ack), .pubcomp(let ack), .unsuback(let ack):
            ack != AckPacket(packetID: ack.packetID)
        case .subscribe(let subscribe):
            !subscribe.properties.isEmpty
                || subscribe.subscriptions.contains { $0 != TopicSubscription(filter: $0.filter, qos: $0.qos) }
        case .suback(let suback): !suback.properties.isEmpty
        case .unsubscribe(let unsubscribe): !unsubscribe.properties.isEmpty
        case .disconnect(let disconnect): disconnect != DisconnectPacket()
        case .auth: true
        case .pingreq, .pingresp: false
        }
    }

    private static func validateTopicName(_ topic: String) throws(MQTTProtocolError) {
        do { try Topic.validateName(topic) } catch { throw .invalidTopicName(topic) }
    }

    private static func validatePacketID(_ id: UInt16, in type: PacketType) throws(MQTTProtocolError) {
        if id == 0 { throw .zeroPacketID(type) }
    }

    private static func validateReasonCode(_ code: MQTTReasonCode, in type: PacketType) throws(MQTTProtocolError) {
        if !code.isAllowed(in: type) { throw .invalidReasonCode(type, code.rawValue) }
    }
}
