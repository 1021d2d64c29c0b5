import MQTT
import NIOCore
import Testing

/// MQTT 5 packets and their exact bytes, laid out by hand from the
/// specification's figures.
private let canonical: [(String, Packet)] = [
    // §3.1.2.11's example variable header (level 5, user name, password,
    // clean start, keep alive 10, session expiry 10), then the payload.
    ("10 19 00 04 4D 51 54 54 05 C2 00 0A 05 11 00 00 00 0A 00 01 63 00 01 75 00 01 70",
     .connect(ConnectPacket(
        protocolVersion: .v5, clientID: "c", keepAlive: 10, username: "u", password: ByteBuffer(string: "p"),
        properties: Properties { $0.sessionExpiryInterval = 10 }))),
    ("20 03 00 00 00", .connack(ConnAckPacket(reasonCode: .success))),
    ("20 05 01 87 02 24 00", .connack(ConnAckPacket(
        sessionPresent: true, reasonCode: .notAuthorized, properties: Properties { $0.maximumQoS = .atMostOnce }))),
    // §3.3.2.3.4: a topic alias stands for an empty topic name.
    ("30 08 00 00 03 23 00 01 68 69", .publish(PublishPacket(
        topic: "", payload: ByteBuffer(string: "hi"), properties: Properties { $0.topicAlias = 1 }))),
    // §3.4.2.1: Success without properties leaves out the reason code and the property length.
    ("40 02 00 01", .puback(AckPacket(packetID: 1))),
    ("40 03 00 01 10", .puback(AckPacket(packetID: 1, reasonCode: .noMatchingSubscribers))),
    ("40 08 00 01 00 04 1F 00 01 61", .puback(AckPacket(packetID: 1, properties: Properties { $0.reasonString = "a" }))),
    ("62 03 00 02 92", .pubrel(AckPacket(packetID: 2, reasonCode: .packetIdentifierNotFound))),
    // Options 0x2E: QoS 2, No Local, Retain As Published, Retain Handling 2.
    ("82 07 00 01 00 00 01 61 2E", .subscribe(SubscribePacket(packetID: 1, subscriptions: [
        TopicSubscription(filter: "a", qos: .exactlyOnce, noLocal: true, retainAsPublished: true, retainHandling: .doNotSend),
    ]))),
    ("82 09 00 01 02 0B 05 00 01 61 01", .subscribe(SubscribePacket(
        packetID: 1, subscriptions: [TopicSubscription(filter: "a", qos: .atLeastOnce)],
        properties: Properties { $0.subscriptionIdentifiers = [5] }))),
    ("90 05 00 01 00 01 87", .suback(SubAckPacket(packetID: 1, returnCodes: [.init(.grantedQoS1), .init(.notAuthorized)]))),
    ("A2 06 00 01 00 00 01 61", .unsubscribe(UnsubscribePacket(packetID: 1, filters: ["a"]))),
    ("B0 05 00 01 00 00 11", .unsuback(AckPacket(packetID: 1, reasonCodes: [.success, .noSubscriptionExisted]))),
    ("E0 00", .disconnect(DisconnectPacket())),
    ("E0 01 04", .disconnect(DisconnectPacket(reasonCode: .disconnectWithWillMessage))),
    ("E0 07 8B 05 11 00 00 00 00", .disconnect(DisconnectPacket(
        reasonCode: .serverShuttingDown, properties: Properties { $0.sessionExpiryInterval = 0 }))),
    ("F0 00", .auth(AuthPacket())),
    ("F0 09 18 07 15 00 04 53 43 52 4D", .auth(AuthPacket(
        reasonCode: .continueAuthentication, properties: Properties { $0.authenticationMethod = "SCRM" }))),
]

/// Bytes a sender may choose over the canonical form, and what they mean.
private let alternatives: [(String, Packet)] = [
    // A reason code with an empty property length, or Success spelt out.
    ("40 04 00 01 10 00", .puback(AckPacket(packetID: 1, reasonCode: .noMatchingSubscribers))),
    ("40 03 00 01 00", .puback(AckPacket(packetID: 1))),
    ("40 04 00 01 00 00", .puback(AckPacket(packetID: 1))),
    ("E0 02 04 00", .disconnect(DisconnectPacket(reasonCode: .disconnectWithWillMessage))),
    ("E0 01 00", .disconnect(DisconnectPacket())),
    ("F0 02 00 00", .auth(AuthPacket())),
    // A property length in more bytes than it needs.
    ("20 04 00 00 80 00", .connack(ConnAckPacket(reasonCode: .success))),
]

@Suite("MQTT 5 bytes", .timeLimit(.minutes(5)))
struct V5WireTests {
    @Test("MQTT 5 packets encode to the specification's layout, and decode from it", arguments: canonical)
    func exactBytes(bytes: String, packet: Packet) throws {
        #expect(try encode5(packet) == hex(bytes))
        #expect(try decode5(hex(bytes)) == packet)
    }

    @Test("longer forms that the specification allows decode to the same packet", arguments: alternatives)
    func alternativeForms(bytes: String, packet: Packet) throws {
        #expect(try decode5(hex(bytes)) == packet)
    }

    @Test("properties are written in ascending order of identifier, whatever order they were read in")
    func canonicalOrder() throws {
        // User property (0x26), then content type (0x03), then message expiry (0x02).
        let unordered = packet(0x30, field("t") + properties(
            property(.userProperty, field("k") + field("v")), property(.contentType, field("x")),
            property(.messageExpiryInterval, uint32(9))))
        let decoded = try #require(try decode5(unordered))
        let ordered = packet(0x30, field("t") + properties(
            property(.messageExpiryInterval, uint32(9)), property(.contentType, field("x")),
            property(.userProperty, field("k") + field("v"))))
        #expect(try encode5(decoded) == ordered)
    }

    @Test("reason codes know their names and which are errors")
    func reasonCodeNames() {
        #expect(MQTTReasonCode.success.name == "Success")
        #expect(MQTTReasonCode.packetTooLarge.description == "Packet too large (0x95)")
        #expect(MQTTReasonCode(rawValue: 0x03).description == "reason code 0x03")
        #expect(!MQTTReasonCode.noMatchingSubscribers.isError)
        #expect(MQTTReasonCode.unspecifiedError.isError)
        #expect(MQTTReasonCode.grantedQoS2.isAllowed(in: .suback))
        #expect(!MQTTReasonCode.grantedQoS2.isAllowed(in: .puback))
    }
}
