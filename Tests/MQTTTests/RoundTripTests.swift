import MQTT
import NIOCore
import Testing

/// A packet with a name for the test report.
struct Sample: Sendable, CustomTestStringConvertible {
    var name: String
    var packet: Packet
    var testDescription: String { name }

    init(_ name: String, _ packet: Packet) {
        self.name = name
        self.packet = packet
    }
}

/// At least one of every packet type, with every field set and unset.
let samples: [Sample] = [
    Sample("CONNECT 3.1.1, minimal", .connect(ConnectPacket(clientID: "device-1"))),
    Sample("CONNECT 3.1.1, everything", .connect(ConnectPacket(
        clientID: "livingroom-node", cleanSession: false, keepAlive: 65535,
        will: Will(topic: "home/livingroom-node/status", payload: ByteBuffer(string: "offline"),
                   qos: .exactlyOnce, retain: true),
        username: "sensor", password: ByteBuffer(bytes: [0x00, 0xFF, 0x80, 0x7F])))),
    Sample("CONNECT 3.1.1, will QoS 1 without retain, user name only", .connect(ConnectPacket(
        clientID: "c", keepAlive: 0,
        will: Will(topic: "w", payload: ByteBuffer(), qos: .atLeastOnce), username: "user"))),
    Sample("CONNECT 3.1.1, empty client id, empty user name and password", .connect(ConnectPacket(
        clientID: "", username: "", password: ByteBuffer()))),
    Sample("CONNECT 3.1, everything", .connect(ConnectPacket(
        protocolVersion: .v3_1, clientID: "old-client", cleanSession: false, keepAlive: 10,
        will: Will(topic: "old/will", payload: ByteBuffer(string: "gone"), qos: .atLeastOnce, retain: true),
        username: "name", password: ByteBuffer(string: "secret")))),
    Sample("CONNECT 3.1, minimal", .connect(ConnectPacket(protocolVersion: .v3_1, clientID: "x"))),
    Sample("CONNACK accepted, session present",
           .connack(ConnAckPacket(sessionPresent: true, returnCode: .accepted))),
    Sample("CONNACK unacceptable protocol version",
           .connack(ConnAckPacket(returnCode: .unacceptableProtocolVersion))),
    Sample("CONNACK identifier rejected", .connack(ConnAckPacket(returnCode: .identifierRejected))),
    Sample("CONNACK server unavailable", .connack(ConnAckPacket(returnCode: .serverUnavailable))),
    Sample("CONNACK bad user name or password", .connack(ConnAckPacket(returnCode: .badUsernameOrPassword))),
    Sample("CONNACK not authorized", .connack(ConnAckPacket(returnCode: .notAuthorized))),
    Sample("PUBLISH QoS 0", .publish(PublishPacket(topic: "home/temp", payload: ByteBuffer(string: "21.5")))),
    Sample("PUBLISH QoS 0 retained", .publish(PublishPacket(
        topic: "home/led", payload: ByteBuffer(string: "on"), retain: true))),
    Sample("PUBLISH QoS 0, empty payload", .publish(PublishPacket(topic: "a", payload: ByteBuffer()))),
    Sample("PUBLISH QoS 1", .publish(PublishPacket(
        topic: "a/b", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, packetID: 1))),
    Sample("PUBLISH QoS 1, DUP and RETAIN", .publish(PublishPacket(
        topic: "a/b", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, retain: true, dup: true, packetID: 2))),
    Sample("PUBLISH QoS 2", .publish(PublishPacket(
        topic: "a", payload: ByteBuffer(bytes: [0, 1, 2]), qos: .exactlyOnce, packetID: 65535))),
    Sample("PUBLISH QoS 2, DUP, RETAIN, empty payload", .publish(PublishPacket(
        topic: "a", payload: ByteBuffer(), qos: .exactlyOnce, retain: true, dup: true, packetID: 3))),
    Sample("PUBLISH to a $SYS topic with empty levels and non-ASCII", .publish(PublishPacket(
        topic: "$SYS//température/ /\u{FEFF}", payload: ByteBuffer(string: "°C")))),
    Sample("PUBACK", .puback(AckPacket(packetID: 1))),
    Sample("PUBREC", .pubrec(AckPacket(packetID: 0x1234))),
    Sample("PUBREL", .pubrel(AckPacket(packetID: 65535))),
    Sample("PUBCOMP", .pubcomp(AckPacket(packetID: 256))),
    Sample("SUBSCRIBE with several filters", .subscribe(SubscribePacket(packetID: 10, subscriptions: [
        TopicSubscription(filter: "sport/tennis/#", qos: .atMostOnce),
        TopicSubscription(filter: "sport/+/player1", qos: .atLeastOnce),
        TopicSubscription(filter: "#", qos: .exactlyOnce),
        TopicSubscription(filter: "$SYS/broker/uptime", qos: .atMostOnce),
    ]))),
    // A syntactically invalid filter is the broker's to refuse with SUBACK 0x80.
    Sample("SUBSCRIBE with an invalid filter", .subscribe(SubscribePacket(packetID: 11, subscriptions: [
        TopicSubscription(filter: "sport/tennis#", qos: .atLeastOnce),
    ]))),
    Sample("SUBACK with every return code", .suback(SubAckPacket(packetID: 10, returnCodes: [
        SubscribeReturnCode(granted: .atMostOnce), SubscribeReturnCode(granted: .atLeastOnce),
        SubscribeReturnCode(granted: .exactlyOnce), .failure,
    ]))),
    Sample("SUBACK failure only", .suback(SubAckPacket(packetID: 1, returnCodes: [.failure]))),
    Sample("UNSUBSCRIBE with several filters", .unsubscribe(UnsubscribePacket(
        packetID: 12, filters: ["sport/tennis/#", "a", "+/+"]))),
    Sample("UNSUBACK", .unsuback(AckPacket(packetID: 12))),
    Sample("PINGREQ", .pingreq),
    Sample("PINGRESP", .pingresp),
    Sample("DISCONNECT", .disconnect(DisconnectPacket())),
]

@Suite("Round trips", .timeLimit(.minutes(5)))
struct RoundTripTests {
    @Test("every packet type decodes to what was encoded", arguments: samples)
    func roundTrip(_ sample: Sample) throws {
        let bytes = try encode(sample.packet)
        let (packets, leftover) = try decodeAll(bytes)
        #expect(packets == [sample.packet])
        #expect(leftover == 0)
        #expect(try encode(#require(packets.first)) == bytes)
    }

    @Test("the sample set covers every packet type")
    func coversEveryType() {
        let types = Set(samples.map(\.packet.type.rawValue))
        #expect(types == Set(1...14))
    }

    @Test("a decoded payload does not share the storage of the read buffer")
    func payloadOwnsItsBytes() throws {
        var input = ByteBuffer(bytes: try encode(.publish(PublishPacket(topic: "t", payload: ByteBuffer(string: "p")))))
        input.reserveCapacity(4096)
        var decoder = MQTTDecoder()
        guard case .publish(let publish) = try decoder.decode(buffer: &input) else {
            Issue.record("expected a PUBLISH")
            return
        }
        #expect(publish.payload.storageCapacity < 64)
    }

    /// PUBLISH QoS 0 to "t": 3 bytes of topic, then the payload.
    @Test(
        "remaining lengths at the boundaries of 1, 2, 3 and 4 bytes",
        arguments: [
            (127, "7F"), (128, "80 01"), (16383, "FF 7F"), (16384, "80 80 01"),
            (2_097_151, "FF FF 7F"), (2_097_152, "80 80 80 01"),
        ])
    func remainingLengthBoundaries(remainingLength: Int, encodedLength: String) throws {
        let payload = ByteBuffer(repeating: 0xA5, count: remainingLength - 3)
        let publish = Packet.publish(PublishPacket(topic: "t", payload: payload))
        let bytes = try encode(publish)
        let lengthBytes = hex(encodedLength)
        #expect(bytes.count == 1 + lengthBytes.count + remainingLength)
        #expect(Array(bytes[1...lengthBytes.count]) == lengthBytes)
        #expect(try decode(bytes) == publish)
    }

    @Test("a QoS 0 PUBLISH carries no packet identifier, whatever the struct holds")
    func qos0PacketIDIsNotSent() throws {
        let bytes = try encode(.publish(PublishPacket(topic: "t", payload: ByteBuffer(), packetID: 7)))
        #expect(bytes == hex("30 03 00 01 74"))
    }
}

@Suite("Golden encodings, written by hand from the specification", .timeLimit(.minutes(5)))
struct GoldenEncodingTests {
    @Test("CONNECT 3.1.1: client id, clean session, keepalive 60 (§3.1)")
    func connect() throws {
        let packet = Packet.connect(ConnectPacket(clientID: "abc"))
        let bytes = hex("10 0F  00 04 4D 51 54 54  04  02  00 3C  00 03 61 62 63")
        #expect(try encode(packet) == bytes)
        #expect(try decode(bytes) == packet)
    }

    @Test("CONNECT 3.1: MQIsdp level 3, will QoS 1 retained, user name and password")
    func connect31() throws {
        let packet = Packet.connect(ConnectPacket(
            protocolVersion: .v3_1, clientID: "id", keepAlive: 10,
            will: Will(topic: "t", payload: ByteBuffer(string: "by"), qos: .atLeastOnce, retain: true),
            username: "u", password: ByteBuffer(string: "p")))
        let bytes = hex("""
            10 1D  00 06 4D 51 49 73 64 70  03  EE  00 0A  00 02 69 64
            00 01 74  00 02 62 79  00 01 75  00 01 70
            """)
        #expect(try encode(packet) == bytes)
        #expect(try decode(bytes) == packet)
    }

    @Test("CONNACK with session present (§3.2)")
    func connack() throws {
        let packet = Packet.connack(ConnAckPacket(sessionPresent: true, returnCode: .accepted))
        #expect(try encode(packet) == hex("20 02 01 00"))
    }

    @Test("PUBLISH QoS 1 to a/b, packet id 10, payload hi (§3.3)")
    func publishQoS1() throws {
        let packet = Packet.publish(PublishPacket(
            topic: "a/b", payload: ByteBuffer(string: "hi"), qos: .atLeastOnce, packetID: 10))
        let bytes = hex("32 09  00 03 61 2F 62  00 0A  68 69")
        #expect(try encode(packet) == bytes)
        #expect(try decode(bytes) == packet)
    }

    @Test("PUBLISH QoS 2 with DUP and RETAIN sets first byte 0x3D")
    func publishFlags() throws {
        let packet = Packet.publish(PublishPacket(
            topic: "a", payload: ByteBuffer(), qos: .exactlyOnce, retain: true, dup: true, packetID: 1))
        #expect(try encode(packet) == hex("3D 05 00 01 61 00 01"))
    }

    @Test("PUBREL has the fixed flags 0010 (§3.6.1)")
    func pubrel() throws {
        #expect(try encode(.pubrel(AckPacket(packetID: 7))) == hex("62 02 00 07"))
    }

    @Test("SUBSCRIBE a/+ at QoS 1 and # at QoS 0 (§3.8)")
    func subscribe() throws {
        let packet = Packet.subscribe(SubscribePacket(packetID: 1, subscriptions: [
            TopicSubscription(filter: "a/+", qos: .atLeastOnce), TopicSubscription(filter: "#", qos: .atMostOnce),
        ]))
        let bytes = hex("82 0C  00 01  00 03 61 2F 2B 01  00 01 23 00")
        #expect(try encode(packet) == bytes)
        #expect(try decode(bytes) == packet)
    }

    @Test("SUBACK granting QoS 1 and refusing one filter (§3.9)")
    func suback() throws {
        let packet = Packet.suback(SubAckPacket(packetID: 1, returnCodes: [SubscribeReturnCode(granted: .atLeastOnce), .failure]))
        #expect(try encode(packet) == hex("90 04 00 01 01 80"))
    }

    @Test("UNSUBSCRIBE a (§3.10)")
    func unsubscribe() throws {
        #expect(try encode(.unsubscribe(UnsubscribePacket(packetID: 2, filters: ["a"]))) == hex("A2 05 00 02 00 01 61"))
    }

    @Test("PINGREQ, PINGRESP and DISCONNECT are two bytes each")
    func twoBytePackets() throws {
        #expect(try encode(.pingreq) == hex("C0 00"))
        #expect(try encode(.pingresp) == hex("D0 00"))
        #expect(try encode(.disconnect(DisconnectPacket())) == hex("E0 00"))
        #expect(try decode(hex("C0 00")) == .pingreq)
    }
}
