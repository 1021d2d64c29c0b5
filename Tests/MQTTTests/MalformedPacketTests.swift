import MQTT
import NIOCore
import Testing

/// Every packet type whose fixed header flags §2.2.2 fixes, with those flags.
/// CONNECT is tested apart: MQTT 3.1 does not fix its flags.
private let fixedFlagTypes: [(PacketType, UInt8)] = [
    (.connack, 0), (.puback, 0), (.pubrec, 0), (.pubrel, 2), (.pubcomp, 0), (.subscribe, 2),
    (.suback, 0), (.unsubscribe, 2), (.unsuback, 0), (.pingreq, 0), (.pingresp, 0), (.disconnect, 0),
]

@Suite("Malformed fixed headers", .timeLimit(.minutes(5)))
struct MalformedHeaderTests {
    @Test("every wrong flag value of every fixed-flag type is refused from the first byte")
    func reservedFlags() {
        for (type, required) in fixedFlagTypes {
            for flags in UInt8(0)...15 where flags != required {
                #expect(throws: MQTTProtocolError.invalidFlags(type, flags), "\(type) flags \(flags)") {
                    try decode([type.rawValue << 4 | flags])
                }
            }
        }
    }

    @Test("reserved packet types 0 and 15 are refused, whatever their flags", arguments: [UInt8(0), 15])
    func reservedTypes(type: UInt8) {
        for flags in UInt8(0)...15 {
            #expect(throws: MQTTProtocolError.reservedPacketType(type)) {
                try decode([type << 4 | flags, 0])
            }
        }
    }

    @Test("a remaining length of five bytes is refused", arguments: [
        "30 FF FF FF FF 01", "30 80 80 80 80 00", "C0 80 80 80 80",
    ])
    func fiveByteRemainingLength(bytes: String) {
        #expect(throws: MQTTProtocolError.malformedRemainingLength) { try decode(hex(bytes)) }
    }

    @Test("the largest remaining length, 268,435,455, waits for its body")
    func largestRemainingLength() throws {
        #expect(try decode(hex("30 FF FF FF 7F")) == nil)
    }

    @Test("a packet over the limit is refused as soon as its header is complete")
    func packetTooLarge() throws {
        // 0x65 = 101 bytes of body + 2 of header; no byte of the body has arrived.
        #expect(throws: MQTTProtocolError.packetTooLarge(size: 103, limit: 100)) {
            try decode(hex("30 65"), maximumPacketSize: 100)
        }
        #expect(try decode(hex("30 FF"), maximumPacketSize: 100) == nil)
        #expect(throws: MQTTProtocolError.packetTooLarge(size: 16386, limit: 100)) {
            try decode(hex("30 FF 7F"), maximumPacketSize: 100)
        }
        #expect(throws: MQTTProtocolError.packetTooLarge(size: 268_435_460, limit: 1000)) {
            try decode(hex("30 FF FF FF 7F"), maximumPacketSize: 1000)
        }
    }

    @Test("a packet of exactly the limit is accepted")
    func packetAtLimit() throws {
        let publish = Packet.publish(PublishPacket(topic: "t", payload: ByteBuffer(repeating: 1, count: 95)))
        let bytes = try encode(publish)
        #expect(bytes.count == 100)
        #expect(try decode(bytes, maximumPacketSize: 100) == publish)
    }

    @Test("a body shorter than its remaining length is waited for, and nothing is consumed")
    func incompleteBody() throws {
        let bytes = try encode(.publish(PublishPacket(topic: "a/b", payload: ByteBuffer(string: "hello"))))
        var decoder = MQTTDecoder()
        for count in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<count])
            #expect(try decoder.decode(buffer: &buffer) == nil)
            #expect(buffer.readableBytes == count)
        }
    }
}

@Suite("Malformed bodies", .timeLimit(.minutes(5)))
struct MalformedBodyTests {
    @Test("a CONNECT cut anywhere inside its fields is truncated")
    func truncatedConnect() throws {
        let full = try encode(.connect(ConnectPacket(
            clientID: "id", will: Will(topic: "w", payload: ByteBuffer(string: "x")),
            username: "u", password: ByteBuffer(string: "p"))))
        let body = Array(full.dropFirst(2))
        for count in 0..<body.count {
            #expect(throws: MQTTProtocolError.truncated(.connect), "body cut to \(count) bytes") {
                try decode(packet(0x10, Array(body[..<count])))
            }
        }
    }

    @Test("packets whose fields end before their remaining length are truncated", arguments: [
        ("40 01 00", PacketType.puback), ("50 00", .pubrec), ("62 01 00", .pubrel), ("70 00", .pubcomp),
        ("B0 01 00", .unsuback), ("20 01 00", .connack),
        ("30 01 00", .publish), ("30 03 00 05 61", .publish), ("32 04 00 01 61 00", .publish),
        ("82 01 00", .subscribe), ("82 05 00 01 00 03 61", .subscribe), ("82 05 00 01 00 01 61", .subscribe),
        ("90 01 00", .suback), ("A2 04 00 01 00 02", .unsubscribe),
    ])
    func truncated(bytes: String, type: PacketType) {
        #expect(throws: MQTTProtocolError.truncated(type)) { try decode(hex(bytes)) }
    }

    @Test("bytes after the last field are refused", arguments: [
        ("C0 01 00", PacketType.pingreq), ("D0 01 00", .pingresp), ("E0 01 00", .disconnect),
        ("40 03 00 01 00", .puback), ("62 03 00 01 00", .pubrel), ("B0 03 00 01 00", .unsuback),
        ("20 03 00 00 00", .connack),
    ])
    func trailingBytes(bytes: String, type: PacketType) {
        #expect(throws: MQTTProtocolError.trailingBytes(type)) { try decode(hex(bytes)) }
    }

    @Test("a CONNECT with a byte after its last field is refused")
    func trailingBytesInConnect() {
        #expect(throws: MQTTProtocolError.trailingBytes(.connect)) {
            try decode(packet(0x10, connectBody(rest: [0])))
        }
    }

    @Test("PUBLISH with QoS 3 is refused")
    func qos3() {
        #expect(throws: MQTTProtocolError.invalidQoS(.publish)) { try decode(hex("36 05 00 01 61 00 01")) }
        #expect(throws: MQTTProtocolError.invalidQoS(.publish)) { try decode(hex("3F 05 00 01 61 00 01")) }
    }

    @Test("PUBLISH at QoS 0 with DUP is refused")
    func qos0WithDup() {
        #expect(throws: MQTTProtocolError.invalidQoS(.publish)) { try decode(hex("38 03 00 01 61")) }
    }

    @Test("a topic name with a wildcard or empty is refused", arguments: ["a/+", "a/#", "#", "+", "a+b", ""])
    func invalidTopicName(topic: String) {
        #expect(throws: MQTTProtocolError.invalidTopicName(topic)) {
            try decode(packet(0x30, field(topic) + Array("payload".utf8)))
        }
    }

    @Test("a will topic with a wildcard or empty is refused", arguments: ["home/+/status", "#", ""])
    func invalidWillTopic(topic: String) {
        let body = connectBody(flags: 0x06, rest: field(topic) + field("bye"))
        #expect(throws: MQTTProtocolError.invalidTopicName(topic)) { try decode(packet(0x10, body)) }
    }

    @Test("packet identifier 0 is refused wherever one is carried", arguments: [
        ("32 05 00 01 61 00 00", PacketType.publish), ("34 05 00 01 61 00 00", .publish),
        ("40 02 00 00", .puback), ("50 02 00 00", .pubrec), ("62 02 00 00", .pubrel), ("70 02 00 00", .pubcomp),
        ("82 06 00 00 00 01 61 00", .subscribe), ("90 03 00 00 00", .suback),
        ("A2 05 00 00 00 01 61", .unsubscribe), ("B0 02 00 00", .unsuback),
    ])
    func zeroPacketID(bytes: String, type: PacketType) {
        #expect(throws: MQTTProtocolError.zeroPacketID(type)) { try decode(hex(bytes)) }
    }

    @Test("SUBSCRIBE and UNSUBSCRIBE without filters are refused")
    func noFilters() {
        #expect(throws: MQTTProtocolError.noTopicFilters(.subscribe)) { try decode(hex("82 02 00 01")) }
        #expect(throws: MQTTProtocolError.noTopicFilters(.unsubscribe)) { try decode(hex("A2 02 00 01")) }
    }

    @Test("SUBSCRIBE options with reserved bits set are refused", arguments: [UInt8(0x04), 0x08, 0x10, 0x80, 0xFD])
    func subscribeReservedBits(options: UInt8) {
        #expect(throws: MQTTProtocolError.reservedBitsSet(.subscribe)) {
            try decode(packet(0x82, uint16(1) + field("a") + [options]))
        }
    }

    @Test("SUBSCRIBE asking for QoS 3 is refused")
    func subscribeQoS3() {
        #expect(throws: MQTTProtocolError.invalidQoS(.subscribe)) { try decode(packet(0x82, uint16(1) + field("a") + [3])) }
    }

    @Test("a SUBACK return code other than 0, 1, 2 and 0x80 is refused", arguments: [UInt8(3), 0x7F, 0x81, 0xFF])
    func subackReturnCode(code: UInt8) {
        #expect(throws: MQTTProtocolError.invalidReturnCode(code)) { try decode(packet(0x90, uint16(1) + [0, code])) }
    }

    @Test("CONNACK flags other than session present are refused")
    func connackReservedBits() {
        #expect(throws: MQTTProtocolError.reservedBitsSet(.connack)) { try decode(hex("20 02 02 00")) }
        #expect(throws: MQTTProtocolError.reservedBitsSet(.connack)) { try decode(hex("20 02 81 00")) }
    }
}

@Suite("Malformed CONNECT", .timeLimit(.minutes(5)))
struct MalformedConnectTests {
    @Test("fixed header flags other than 0 are refused in MQTT 3.1.1", arguments: UInt8(1)...15)
    func fixedHeaderFlags(flags: UInt8) {
        #expect(throws: MQTTProtocolError.invalidFlags(.connect, flags)) {
            try decode(packet(0x10 | flags, connectBody()))
        }
    }

    @Test("the reserved CONNECT flag is refused in MQTT 3.1.1")
    func reservedFlag() {
        #expect(throws: MQTTProtocolError.reservedBitsSet(.connect)) { try decode(packet(0x10, connectBody(flags: 0x03))) }
    }

    @Test("will QoS or will retain without a will is refused in MQTT 3.1.1", arguments: [UInt8(0x08), 0x10, 0x20, 0x28])
    func willFlagsWithoutWill(flags: UInt8) {
        #expect(throws: MQTTProtocolError.inconsistentConnectFlags) { try decode(packet(0x10, connectBody(flags: flags))) }
    }

    @Test("will QoS 3 is refused")
    func willQoS3() {
        let body = connectBody(flags: 0x1C, rest: field("w") + field("x"))
        #expect(throws: MQTTProtocolError.invalidQoS(.connect)) { try decode(packet(0x10, body)) }
    }

    @Test("a password without a user name is refused, in 3.1.1 and in 3.1", arguments: [
        ("MQTT", UInt8(4)), ("MQIsdp", 3),
    ])
    func passwordWithoutUsername(name: String, level: UInt8) {
        let body = connectBody(name: name, level: level, flags: 0x42, rest: field("secret"))
        #expect(throws: MQTTProtocolError.inconsistentConnectFlags) { try decode(packet(0x10, body)) }
    }

    /// MQTT 3.1 does not fix these bits; Mosquitto ignores them there.
    @Test("MQTT 3.1 ignores the fixed header flags, the reserved flag and will flags without a will")
    func lenientV31() throws {
        let body = connectBody(name: "MQIsdp", level: 3, flags: 0x02 | 0x01 | 0x08 | 0x20)
        let decoded = try decode(packet(0x1F, body))
        #expect(decoded == .connect(ConnectPacket(protocolVersion: .v3_1, clientID: "client")))
    }

    @Test("an unknown protocol name is refused", arguments: ["MQTX", "mqtt", "MQIsdp3", ""])
    func unknownProtocolName(name: String) {
        #expect(throws: MQTTProtocolError.unknownProtocolName(name)) { try decode(packet(0x10, connectBody(name: name))) }
    }

    @Test("an unsupported protocol level is reported so that the broker can answer CONNACK 0x01", arguments: [
        ("MQTT", UInt8(5)), ("MQTT", 3), ("MQTT", 0), ("MQTT", 0x84), ("MQIsdp", 4), ("MQIsdp", 0x83),
    ])
    func unsupportedLevel(name: String, level: UInt8) {
        #expect(throws: MQTTProtocolError.unsupportedProtocolLevel(level)) {
            try decode(packet(0x10, connectBody(name: name, level: level)))
        }
    }

    @Test("an MQTT 5 CONNECT is reported as level 5 before its properties are read")
    func mqtt5Connect() {
        // Level 5, clean start, keepalive 60, properties: session expiry 0x11 = 10.
        let body = field("MQTT") + [5, 0x02, 0, 60, 5, 0x11, 0, 0, 0, 10] + field("c5")
        #expect(throws: MQTTProtocolError.unsupportedProtocolLevel(5)) { try decode(packet(0x10, body)) }
    }
}
