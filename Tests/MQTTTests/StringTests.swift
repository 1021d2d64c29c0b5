import MQTT
import NIOCore
import Testing

/// A byte sequence that is not well-formed UTF-8, with what is wrong with it.
struct IllFormed: Sendable, CustomTestStringConvertible {
    var bytes: [UInt8]
    var testDescription: String
    init(_ hexBytes: String, _ description: String) {
        bytes = hex(hexBytes)
        testDescription = description
    }
}

private let illFormed: [IllFormed] = [
    IllFormed("C0 AF", "overlong '/' in 2 bytes"),
    IllFormed("C0 80", "overlong U+0000 in 2 bytes"),
    IllFormed("E0 80 AF", "overlong '/' in 3 bytes"),
    IllFormed("F0 80 80 AF", "overlong '/' in 4 bytes"),
    IllFormed("ED A0 80", "high surrogate U+D800"),
    IllFormed("ED BF BF", "low surrogate U+DFFF"),
    IllFormed("ED A0 BD ED B8 80", "surrogate pair encoded as two 3-byte sequences"),
    IllFormed("F4 90 80 80", "beyond U+10FFFF"),
    IllFormed("61 E2 82", "3-byte sequence cut after 2"),
    IllFormed("C3", "2-byte sequence cut after 1"),
    IllFormed("F0 9F 98", "4-byte sequence cut after 3"),
    IllFormed("80 61", "continuation byte without a lead"),
    IllFormed("C3 61", "lead byte followed by ASCII"),
    IllFormed("FE", "byte FE"),
    IllFormed("FF", "byte FF"),
]

@Suite("UTF-8 strings (§1.5.3)", .timeLimit(.minutes(5)))
struct StringTests {
    @Test("ill-formed UTF-8 in a topic name is refused", arguments: illFormed)
    func inTopic(_ sample: IllFormed) {
        #expect(throws: MQTTProtocolError.invalidUTF8(.publish)) {
            try decode(packet(0x30, field(Array("a/".utf8) + sample.bytes) + [1, 2, 3]))
        }
    }

    @Test("ill-formed UTF-8 in a client id is refused", arguments: illFormed)
    func inClientID(_ sample: IllFormed) {
        #expect(throws: MQTTProtocolError.invalidUTF8(.connect)) {
            try decode(packet(0x10, connectBody(clientID: sample.bytes)))
        }
    }

    @Test("ill-formed UTF-8 in a will topic, user name, filter is refused")
    func inOtherFields() {
        let surrogate = hex("ED A0 80")
        #expect(throws: MQTTProtocolError.invalidUTF8(.connect)) {
            try decode(packet(0x10, connectBody(flags: 0x06, rest: field(surrogate) + field("x"))))
        }
        #expect(throws: MQTTProtocolError.invalidUTF8(.connect)) {
            try decode(packet(0x10, connectBody(flags: 0x82, rest: field(surrogate))))
        }
        #expect(throws: MQTTProtocolError.invalidUTF8(.subscribe)) {
            try decode(packet(0x82, uint16(1) + field(surrogate) + [0]))
        }
        #expect(throws: MQTTProtocolError.invalidUTF8(.unsubscribe)) {
            try decode(packet(0xA2, uint16(1) + field(surrogate)))
        }
    }

    @Test("U+0000 is refused in topics, client ids, will topics, user names and filters")
    func nullCharacter() {
        let withNull = Array("a\0b".utf8)
        #expect(throws: MQTTProtocolError.nullCharacter(.publish)) { try decode(packet(0x30, field(withNull))) }
        #expect(throws: MQTTProtocolError.nullCharacter(.connect)) { try decode(packet(0x10, connectBody(clientID: withNull))) }
        #expect(throws: MQTTProtocolError.nullCharacter(.connect)) {
            try decode(packet(0x10, connectBody(flags: 0x06, rest: field(withNull) + field("x"))))
        }
        #expect(throws: MQTTProtocolError.nullCharacter(.connect)) {
            try decode(packet(0x10, connectBody(flags: 0x82, rest: field(withNull))))
        }
        #expect(throws: MQTTProtocolError.nullCharacter(.subscribe)) { try decode(packet(0x82, uint16(1) + field(withNull) + [0])) }
    }

    @Test("control characters and noncharacters are refused, as Mosquitto refuses them", arguments: [
        0x01, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0x9F, 0xFDD0, 0xFDEF, 0xFFFE, 0xFFFF, 0x1FFFE, 0x10FFFF,
    ].map { Unicode.Scalar(UInt32($0))! })
    func disallowedCharacter(scalar: Unicode.Scalar) {
        let topic = "a" + String(scalar)
        #expect(throws: MQTTProtocolError.disallowedCharacter(.publish, scalar)) {
            try decode(packet(0x30, field(topic)))
        }
        #expect(throws: MQTTProtocolError.disallowedCharacter(.connect, scalar)) {
            try decode(packet(0x10, connectBody(clientID: Array(topic.utf8))))
        }
    }

    @Test("characters next to the disallowed ranges are accepted, and a BOM is kept", arguments: [
        " ", "~", "\u{A0}", "\u{FDCF}", "\u{FDF0}", "\u{FEFF}", "\u{FFFD}", "\u{10000}", "\u{10FFFD}", "é",
    ] as [Unicode.Scalar])
    func allowedCharacter(scalar: Unicode.Scalar) throws {
        let topic = String(scalar) + "x"
        let publish = Packet.publish(PublishPacket(topic: topic, payload: ByteBuffer()))
        let decoded = try decode(packet(0x30, field(topic)))
        #expect(decoded == publish)
        guard case .publish(let decodedPublish) = decoded else { return }
        #expect(Array(decodedPublish.topic.unicodeScalars) == [scalar, "x"])
    }

    @Test("a payload is bytes, not a string: any bytes pass")
    func payloadIsBinary() throws {
        let payload: [UInt8] = [0x00, 0xC0, 0x80, 0xED, 0xA0, 0x80, 0xFF]
        let decoded = try decode(packet(0x30, field("t") + payload))
        #expect(decoded == .publish(PublishPacket(topic: "t", payload: ByteBuffer(bytes: payload))))
    }
}

@Suite("The encoder writes only what the decoder accepts", .timeLimit(.minutes(5)))
struct EncoderValidationTests {
    @Test("packets that break a rule are refused and nothing is written", arguments: [
        (Packet.publish(PublishPacket(topic: "a/+", payload: ByteBuffer())), MQTTProtocolError.invalidTopicName("a/+")),
        (.publish(PublishPacket(topic: "", payload: ByteBuffer())), .invalidTopicName("")),
        (.publish(PublishPacket(topic: "a", payload: ByteBuffer(), qos: .atLeastOnce)), .zeroPacketID(.publish)),
        (.publish(PublishPacket(topic: "a", payload: ByteBuffer(), dup: true)), .invalidQoS(.publish)),
        (.puback(AckPacket(packetID: 0)), .zeroPacketID(.puback)),
        (.pubrel(AckPacket(packetID: 0)), .zeroPacketID(.pubrel)),
        (.subscribe(SubscribePacket(packetID: 1, subscriptions: [])), .noTopicFilters(.subscribe)),
        (.unsubscribe(UnsubscribePacket(packetID: 1, filters: [])), .noTopicFilters(.unsubscribe)),
        (.suback(SubAckPacket(packetID: 1, returnCodes: [SubscribeReturnCode(rawValue: 3)])), .invalidReturnCode(3)),
        (.connect(ConnectPacket(clientID: "a\0")), .nullCharacter(.connect)),
        (.connect(ConnectPacket(clientID: "a\u{7}")), .disallowedCharacter(.connect, "\u{7}")),
        (.connect(ConnectPacket(clientID: "c", password: ByteBuffer(string: "p"))), .inconsistentConnectFlags),
        (.connect(ConnectPacket(clientID: "c", will: Will(topic: "#", payload: ByteBuffer()))), .invalidTopicName("#")),
        (.subscribe(SubscribePacket(packetID: 1, subscriptions: [TopicSubscription(filter: "a\u{FFFF}", qos: .atMostOnce)])),
         .disallowedCharacter(.subscribe, "\u{FFFF}")),
    ])
    func refused(packet: Packet, error: MQTTProtocolError) {
        var buffer = ByteBuffer(string: "before")
        #expect(throws: error) { try buffer.writeMQTTPacket(packet) }
        #expect(buffer == ByteBuffer(string: "before"))
    }

    @Test("strings and binary fields over 65,535 bytes are refused")
    func tooLong() {
        let longID = Packet.connect(ConnectPacket(clientID: String(repeating: "x", count: 65_536)))
        #expect(throws: MQTTProtocolError.stringTooLong(65_536)) { try encode(longID) }
        let longPassword = Packet.connect(ConnectPacket(
            clientID: "c", username: "u", password: ByteBuffer(repeating: 0, count: 65_536)))
        #expect(throws: MQTTProtocolError.stringTooLong(65_536)) { try encode(longPassword) }
    }

    @Test("strings of exactly 65,535 bytes are encoded")
    func longestString() throws {
        let topic = String(repeating: "t", count: 65_535)
        let publish = Packet.publish(PublishPacket(topic: topic, payload: ByteBuffer(string: "p")))
        #expect(try decode(encode(publish)) == publish)
    }
}
