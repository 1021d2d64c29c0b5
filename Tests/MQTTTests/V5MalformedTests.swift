import MQTT
import NIOCore
import Testing

/// A QoS 0 PUBLISH to "a" with these properties and payload "p".
private func publish(_ props: [UInt8]) -> [UInt8] {
    packet(0x30, field("a") + props + Array("p".utf8))
}

/// An MQTT 5 CONNECT with these properties, and a will when `will` is given.
private func connect(_ props: [UInt8], will: [UInt8]? = nil, flags: UInt8 = 0x02) -> [UInt8] {
    let willFields = will.map { $0 + field("w") + field("bye") } ?? []
    return packet(0x10, field("MQTT") + [5, flags | (will == nil ? 0 : 0x04)] + uint16(60) + props + field("c") + willFields)
}

/// A SUBSCRIBE to "a" with these properties and options.
private func subscribe(_ props: [UInt8], options: UInt8 = 0) -> [UInt8] {
    packet(0x82, uint16(1) + props + field("a") + [options])
}

private func connack(_ props: [UInt8]) -> [UInt8] { packet(0x20, [0, 0] + props) }

struct MalformedV5: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var error: MQTTProtocolError
    var testDescription: String { name }
    init(_ name: String, _ bytes: [UInt8], _ error: MQTTProtocolError) {
        self.name = name
        self.bytes = bytes
        self.error = error
    }
}

private let twice: [MalformedV5] = [
    MalformedV5("content type twice in PUBLISH",
                publish(properties(property(.contentType, field("x")), property(.contentType, field("y")))),
                .duplicateProperty(.contentType, .publish)),
    MalformedV5("receive maximum twice in CONNECT",
                connect(properties(property(.receiveMaximum, uint16(1)), property(.receiveMaximum, uint16(1)))),
                .duplicateProperty(.receiveMaximum, .connect)),
    MalformedV5("subscription identifier twice in SUBSCRIBE",
                subscribe(properties(property(.subscriptionIdentifier, [1]), property(.subscriptionIdentifier, [2]))),
                .duplicateProperty(.subscriptionIdentifier, .subscribe)),
    MalformedV5("will delay twice in the will",
                connect(properties(), will: properties(property(.willDelayInterval, uint32(1)), property(.willDelayInterval, uint32(2)))),
                .duplicateProperty(.willDelayInterval, .connect)),
    MalformedV5("reason string twice in PUBACK",
                packet(0x40, uint16(1) + [0x10] + properties(property(.reasonString, field("a")), property(.reasonString, field("b")))),
                .duplicateProperty(.reasonString, .puback)),
]

private let misplaced: [MalformedV5] = [
    MalformedV5("session expiry in PUBLISH", publish(properties(property(.sessionExpiryInterval, uint32(1)))),
                .propertyNotAllowed(.sessionExpiryInterval, .publish)),
    MalformedV5("will delay in CONNECT's own properties", connect(properties(property(.willDelayInterval, uint32(1)))),
                .propertyNotAllowed(.willDelayInterval, .connect)),
    MalformedV5("topic alias in the will", connect(properties(), will: properties(property(.topicAlias, uint16(1)))),
                .propertyNotAllowed(.topicAlias, .connect)),
    MalformedV5("content type in PUBACK", packet(0x40, uint16(1) + [0] + properties(property(.contentType, field("x")))),
                .propertyNotAllowed(.contentType, .puback)),
    MalformedV5("maximum QoS in CONNECT", connect(properties(property(.maximumQoS, [0]))),
                .propertyNotAllowed(.maximumQoS, .connect)),
    MalformedV5("session expiry in AUTH", packet(0xF0, [0x18] + properties(property(.sessionExpiryInterval, uint32(1)))),
                .propertyNotAllowed(.sessionExpiryInterval, .auth)),
    MalformedV5("topic alias in DISCONNECT", packet(0xE0, [0] + properties(property(.topicAlias, uint16(1)))),
                .propertyNotAllowed(.topicAlias, .disconnect)),
    MalformedV5("reason string in SUBSCRIBE", subscribe(properties(property(.reasonString, field("x")))),
                .propertyNotAllowed(.reasonString, .subscribe)),
]

private let outOfRange: [MalformedV5] = [
    MalformedV5("receive maximum 0", connect(properties(property(.receiveMaximum, uint16(0)))),
                .invalidPropertyValue(.receiveMaximum, .connect)),
    MalformedV5("maximum packet size 0 in CONNECT", connect(properties(property(.maximumPacketSize, uint32(0)))),
                .invalidPropertyValue(.maximumPacketSize, .connect)),
    MalformedV5("maximum packet size 0 in CONNACK", connack(properties(property(.maximumPacketSize, uint32(0)))),
                .invalidPropertyValue(.maximumPacketSize, .connack)),
    MalformedV5("request problem information 2", connect(properties(property(.requestProblemInformation, [2]))),
                .invalidPropertyValue(.requestProblemInformation, .connect)),
    MalformedV5("request response information 2", connect(properties(property(.requestResponseInformation, [2]))),
                .invalidPropertyValue(.requestResponseInformation, .connect)),
    MalformedV5("maximum QoS 2", connack(properties(property(.maximumQoS, [2]))), .invalidPropertyValue(.maximumQoS, .connack)),
    MalformedV5("retain available 2", connack(properties(property(.retainAvailable, [2]))),
                .invalidPropertyValue(.retainAvailable, .connack)),
    MalformedV5("shared subscription available 0xFF", connack(properties(property(.sharedSubscriptionAvailable, [0xFF]))),
                .invalidPropertyValue(.sharedSubscriptionAvailable, .connack)),
    MalformedV5("payload format indicator 2", publish(properties(property(.payloadFormatIndicator, [2]))),
                .invalidPropertyValue(.payloadFormatIndicator, .publish)),
    MalformedV5("payload format indicator 2 in the will", connect(properties(), will: properties(property(.payloadFormatIndicator, [2]))),
                .invalidPropertyValue(.payloadFormatIndicator, .connect)),
    MalformedV5("topic alias 0", publish(properties(property(.topicAlias, uint16(0)))), .invalidPropertyValue(.topicAlias, .publish)),
    MalformedV5("subscription identifier 0 in PUBLISH", publish(properties(property(.subscriptionIdentifier, [0]))),
                .invalidPropertyValue(.subscriptionIdentifier, .publish)),
    MalformedV5("subscription identifier 0 in SUBSCRIBE", subscribe(properties(property(.subscriptionIdentifier, [0]))),
                .invalidPropertyValue(.subscriptionIdentifier, .subscribe)),
    MalformedV5("authentication data without a method",
                connect(properties(property(.authenticationData, field([1, 2])))),
                .invalidPropertyValue(.authenticationData, .connect)),
]

private let brokenLengths: [MalformedV5] = [
    MalformedV5("property length cut short", packet(0x30, field("a") + [0x80]), .truncated(.publish)),
    MalformedV5("property length of five bytes", publish([0x80, 0x80, 0x80, 0x80, 0x01]),
                .malformedVariableByteInteger(.publish)),
    MalformedV5("property length longer than the packet", packet(0x30, field("a") + [10] + property(.topicAlias, uint16(1))),
                .truncated(.publish)),
    MalformedV5("property length longer than an ack", packet(0x40, uint16(1) + [0x00, 0x05, 0x1F]), .truncated(.puback)),
    MalformedV5("a value cut by the property length", publish([2] + property(.messageExpiryInterval, [0])), .truncated(.publish)),
    MalformedV5("a string cut by the property length", publish([3] + property(.contentType, [0, 5])), .truncated(.publish)),
    MalformedV5("a subscription identifier cut", publish([2] + property(.subscriptionIdentifier, [0x81])), .truncated(.publish)),
    MalformedV5("a subscription identifier of five bytes",
                publish(properties(property(.subscriptionIdentifier, [0x81, 0x81, 0x81, 0x81, 0x01]))),
                .malformedVariableByteInteger(.publish)),
    MalformedV5("CONNACK without its property length", packet(0x20, [0, 0]), .truncated(.connack)),
    MalformedV5("bytes after an ack's properties", packet(0x40, uint16(1) + [0, 0, 0]), .trailingBytes(.puback)),
]

private let unknown: [MalformedV5] = [
    MalformedV5("identifier 0x04", publish(properties([0x04, 0])), .unknownProperty(0x04, .publish)),
    MalformedV5("identifier 0x2B", publish(properties([0x2B, 0])), .unknownProperty(0x2B, .publish)),
    MalformedV5("identifier 0x7F", connack(properties([0x7F, 0])), .unknownProperty(0x7F, .connack)),
    MalformedV5("identifier 128, in two bytes", publish(properties([0x80, 0x01, 0])), .unknownProperty(128, .publish)),
    MalformedV5("identifier 0", publish(properties([0x00, 0])), .unknownProperty(0, .publish)),
]

private let subscriptionOptions: [MalformedV5] = [
    MalformedV5("reserved bit 6", subscribe(properties(), options: 0x40), .reservedBitsSet(.subscribe)),
    MalformedV5("reserved bit 7", subscribe(properties(), options: 0x80), .reservedBitsSet(.subscribe)),
    MalformedV5("both reserved bits and QoS 1", subscribe(properties(), options: 0xC1), .reservedBitsSet(.subscribe)),
    MalformedV5("retain handling 3", subscribe(properties(), options: 0x30), .invalidRetainHandling(3)),
    MalformedV5("QoS 3", subscribe(properties(), options: 0x03), .invalidQoS(.subscribe)),
]

private let reasonCodes: [MalformedV5] = [
    MalformedV5("PUBACK 0x04", hex("40 03 00 01 04"), .invalidReasonCode(.puback, 0x04)),
    MalformedV5("PUBREC 0x92", hex("50 03 00 01 92"), .invalidReasonCode(.pubrec, 0x92)),
    MalformedV5("PUBREL 0x10", hex("62 03 00 01 10"), .invalidReasonCode(.pubrel, 0x10)),
    MalformedV5("PUBCOMP 0x80", hex("70 03 00 01 80"), .invalidReasonCode(.pubcomp, 0x80)),
    MalformedV5("CONNACK 0x01, a 3.1.1 return code", hex("20 03 00 01 00"), .invalidReasonCode(.connack, 0x01)),
    MalformedV5("SUBACK 0x03", hex("90 04 00 01 00 03"), .invalidReasonCode(.suback, 0x03)),
    MalformedV5("UNSUBACK 0x02", hex("B0 04 00 01 00 02"), .invalidReasonCode(.unsuback, 0x02)),
    MalformedV5("DISCONNECT 0x01", hex("E0 01 01"), .invalidReasonCode(.disconnect, 0x01)),
    MalformedV5("AUTH 0x01", hex("F0 01 01"), .invalidReasonCode(.auth, 0x01)),
]

private let otherRules: [MalformedV5] = [
    MalformedV5("AUTH with flags", hex("F1 00"), .invalidFlags(.auth, 1)),
    MalformedV5("empty topic without a topic alias", packet(0x30, field("") + properties()), .invalidTopicName("")),
    MalformedV5("the reserved CONNECT flag", connect(properties(), flags: 0x03), .reservedBitsSet(.connect)),
    MalformedV5("will QoS without a will", connect(properties(), flags: 0x0A), .inconsistentConnectFlags),
    MalformedV5("a 3.1.1 CONNECT's bytes at level 5", packet(0x10, connectBody(level: 5)), .truncated(.connect)),
]

@Suite("Malformed MQTT 5 packets", .timeLimit(.minutes(5)))
struct V5MalformedTests {
    @Test("a property that may appear once appears twice: Protocol Error", arguments: twice)
    func duplicate(sample: MalformedV5) { expectRefused(sample, reasonCode: .protocolError) }

    @Test("a property the packet cannot carry: Malformed Packet", arguments: misplaced)
    func notAllowed(sample: MalformedV5) { expectRefused(sample, reasonCode: .malformedPacket) }

    @Test("a property value out of range: Protocol Error", arguments: outOfRange)
    func valueOutOfRange(sample: MalformedV5) { expectRefused(sample, reasonCode: .protocolError) }

    @Test("a property length that does not match the packet: Malformed Packet", arguments: brokenLengths)
    func lengths(sample: MalformedV5) { expectRefused(sample, reasonCode: .malformedPacket) }

    @Test("an unknown property identifier: Malformed Packet", arguments: unknown)
    func unknownIdentifier(sample: MalformedV5) { expectRefused(sample, reasonCode: .malformedPacket) }

    @Test("subscription options with reserved bits or values", arguments: subscriptionOptions)
    func options(sample: MalformedV5) { expectRefused(sample, reasonCode: nil) }

    @Test("a reason code the packet cannot carry: Protocol Error", arguments: reasonCodes)
    func reasonCode(sample: MalformedV5) { expectRefused(sample, reasonCode: .protocolError) }

    @Test("other MQTT 5 rules", arguments: otherRules)
    func other(sample: MalformedV5) { expectRefused(sample, reasonCode: nil) }

    @Test("properties that may repeat do: user properties anywhere, subscription identifiers on PUBLISH")
    func repeatable() throws {
        let bytes = publish(properties(
            property(.userProperty, field("k") + field("1")), property(.subscriptionIdentifier, [1]),
            property(.userProperty, field("k") + field("2")), property(.subscriptionIdentifier, [0x80, 0x01])))
        let expected = Packet.publish(PublishPacket(topic: "a", payload: ByteBuffer(string: "p"), properties: Properties {
            $0.userProperties = [UserProperty(name: "k", value: "1"), UserProperty(name: "k", value: "2")]
            $0.subscriptionIdentifiers = [1, 128]
        }))
        #expect(try decode5(bytes) == expected)
    }

    @Test("the encoder refuses what the decoder would")
    func encoderRefuses() {
        let misplaced = Packet.publish(PublishPacket(
            topic: "a", payload: ByteBuffer(), properties: Properties { $0.sessionExpiryInterval = 1 }))
        #expect(throws: MQTTProtocolError.propertyNotAllowed(.sessionExpiryInterval, .publish)) { try encode5(misplaced) }
        let zero = Packet.connect(ConnectPacket(protocolVersion: .v5, clientID: "c", properties: Properties { $0.receiveMaximum = 0 }))
        #expect(throws: MQTTProtocolError.invalidPropertyValue(.receiveMaximum, .connect)) { try encode5(zero) }
        let twoIDs = Packet.subscribe(SubscribePacket(
            packetID: 1, subscriptions: [TopicSubscription(filter: "a", qos: .atMostOnce)],
            properties: Properties { $0.subscriptionIdentifiers = [1, 2] }))
        #expect(throws: MQTTProtocolError.duplicateProperty(.subscriptionIdentifier, .subscribe)) { try encode5(twoIDs) }
        let tooLarge = Packet.publish(PublishPacket(
            topic: "a", payload: ByteBuffer(), properties: Properties { $0.subscriptionIdentifiers = [268_435_456] }))
        #expect(throws: MQTTProtocolError.invalidPropertyValue(.subscriptionIdentifier, .publish)) { try encode5(tooLarge) }
        let control = Packet.disconnect(DisconnectPacket(properties: Properties { $0.reasonString = "bad\u{1}" }))
        #expect(throws: MQTTProtocolError.disallowedCharacter(.disconnect, "\u{1}")) { try encode5(control) }
        let qos2 = Packet.connack(ConnAckPacket(reasonCode: .success, properties: Properties { $0.maximumQoS = .exactlyOnce }))
        #expect(throws: MQTTProtocolError.invalidPropertyValue(.maximumQoS, .connack)) { try encode5(qos2) }
        let stray = Packet.puback(AckPacket(packetID: 1, reasonCodes: [.success]))
        #expect(throws: MQTTProtocolError.invalidReasonCode(.puback, 0)) { try encode5(stray) }
    }

    @Test("MQTT 5 fields cannot be written in 3.1.1", arguments: [
        Packet.publish(PublishPacket(topic: "a", payload: ByteBuffer(), properties: Properties { $0.topicAlias = 1 })),
        .puback(AckPacket(packetID: 1, reasonCode: .noMatchingSubscribers)),
        .subscribe(SubscribePacket(packetID: 1, subscriptions: [TopicSubscription(filter: "a", qos: .atMostOnce, noLocal: true)])),
        .disconnect(DisconnectPacket(reasonCode: .disconnectWithWillMessage)),
        .auth(AuthPacket()),
        .connect(ConnectPacket(clientID: "c", will: Will(
            topic: "w", payload: ByteBuffer(), properties: Properties { $0.willDelayInterval = 1 }))),
    ])
    func requiresMQTT5(packet: Packet) {
        #expect(throws: MQTTProtocolError.requiresMQTT5(packet.type)) { try encode(packet) }
    }

    @Test("a decoder that accepts MQTT 5 reads the CONNECT that the default one refuses")
    func acceptsV5Connect() throws {
        let bytes = packet(0x10, field("MQTT") + [5, 0x02, 0, 60, 5, 0x11, 0, 0, 0, 10] + field("c5"))
        var decoder = MQTTDecoder(supportedVersions: allVersions)
        var buffer = ByteBuffer(bytes: bytes)
        let expected = ConnectPacket(protocolVersion: .v5, clientID: "c5", properties: Properties { $0.sessionExpiryInterval = 10 })
        #expect(try decoder.decode(buffer: &buffer) == .connect(expected))
        #expect(throws: MQTTProtocolError.unsupportedProtocolLevel(5)) { try decode(bytes) }
    }

    @Test("MQTT 5 packets cut anywhere are refused or read as a shorter valid packet, never a crash", arguments: v5Samples)
    func cutAnywhere(sample: Sample) throws {
        let bytes = try encode5(sample.packet)
        let headerLength = bytes[1] & 0x80 == 0 ? 2 : bytes[2] & 0x80 == 0 ? 3 : 4
        let body = Array(bytes.dropFirst(headerLength))
        for count in 0..<body.count {
            _ = try? decode5(packet(bytes[0], Array(body[..<count])))
        }
    }

    private func expectRefused(_ sample: MalformedV5, reasonCode: MQTTReasonCode?) {
        #expect(throws: sample.error) { try decode5(sample.bytes) }
        if let reasonCode { #expect(sample.error.reasonCode == reasonCode) }
    }
}
