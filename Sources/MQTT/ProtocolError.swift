/// Why bytes are not valid MQTT, or why a packet cannot be encoded. A
/// decoding error closes the connection that sent the bytes, and only that
/// connection.
public enum MQTTProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Packet type 0, or 15 before MQTT 5.
    case reservedPacketType(UInt8)
    /// The fixed header's flag bits differ from what §2.2.2 fixes for the type.
    case invalidFlags(PacketType, UInt8)
    /// The remaining length uses a fifth byte.
    case malformedRemainingLength
    /// The packet is larger than the configured maximum.
    case packetTooLarge(size: Int, limit: Int)
    /// The remaining length ends before the packet's fields do.
    case truncated(PacketType)
    /// Bytes are left after the packet's last field.
    case trailingBytes(PacketType)
    /// A string is not well-formed UTF-8.
    case invalidUTF8(PacketType)
    /// A string contains U+0000.
    case nullCharacter(PacketType)
    /// A string contains a control character (U+0001 to U+001F, U+007F to
    /// U+009F) or a noncharacter (such as U+FFFF), which MQTT says SHOULD NOT
    /// appear; refused as Mosquitto refuses them.
    case disallowedCharacter(PacketType, Unicode.Scalar)
    /// A QoS of 3, or a QoS 0 PUBLISH with DUP set.
    case invalidQoS(PacketType)
    /// A packet identifier of 0 where one is required.
    case zeroPacketID(PacketType)
    /// A PUBLISH or will topic that is empty or holds a wildcard.
    case invalidTopicName(String)
    /// A SUBSCRIBE or UNSUBSCRIBE without any topic filter.
    case noTopicFilters(PacketType)
    /// Reserved bits set in CONNECT flags, SUBSCRIBE options or CONNACK flags.
    case reservedBitsSet(PacketType)
    /// A will QoS or retain flag without a will, or a password without a user name.
    case inconsistentConnectFlags
    /// CONNECT names a protocol other than `MQTT` or `MQIsdp`.
    case unknownProtocolName(String)
    /// CONNECT names a known protocol at a level this codec does not speak;
    /// the server answers CONNACK 0x01 before closing.
    case unsupportedProtocolLevel(UInt8)
    /// A SUBACK return code other than 0, 1, 2 or 0x80.
    case invalidReturnCode(UInt8)
    /// A string longer than 65,535 bytes cannot be encoded.
    case stringTooLong(Int)
    /// A packet body longer than 268,435,455 bytes cannot be encoded.
    case bodyTooLong(Int)
    /// A variable byte integer inside a body (a property length, a
    /// subscription identifier) uses a fifth byte.
    case malformedVariableByteInteger(PacketType)
    /// A property identifier that MQTT 5 does not define.
    case unknownProperty(Int, PacketType)
    /// A property that this packet (or will, reported as CONNECT) cannot carry.
    case propertyNotAllowed(PropertyIdentifier, PacketType)
    /// A property that may appear once appears again.
    case duplicateProperty(PropertyIdentifier, PacketType)
    /// A property value out of its range (such as a receive maximum of 0),
    /// or authentication data without an authentication method.
    case invalidPropertyValue(PropertyIdentifier, PacketType)
    /// An MQTT 5 reason code that this packet type cannot carry.
    case invalidReasonCode(PacketType, UInt8)
    /// An MQTT 5 subscription asking for Retain Handling 3.
    case invalidRetainHandling(UInt8)
    /// A packet to be written in MQTT 3.1.1 with what only MQTT 5 can
    /// carry: properties, a reason code, subscription options, AUTH.
    case requiresMQTT5(PacketType)

    public var description: String {
        switch self {
        case .reservedPacketType(let type): "reserved packet type \(type)"
        case .invalidFlags(let type, let flags): "invalid fixed header flags 0x\(String(flags, radix: 16)) on \(type)"
        case .malformedRemainingLength: "remaining length longer than 4 bytes"
        case .packetTooLarge(let size, let limit): "packet of \(size) bytes exceeds the maximum of \(limit)"
        case .truncated(let type): "\(type) ends before its fields do"
        case .trailingBytes(let type): "unexpected bytes after the fields of \(type)"
        case .invalidUTF8(let type): "malformed UTF-8 string in \(type)"
        case .nullCharacter(let type): "U+0000 in a string of \(type)"
        case .disallowedCharacter(let type, let scalar):
            "disallowed character U+\(String(scalar.value, radix: 16, uppercase: true)) in a string of \(type)"
        case .invalidQoS(let type): "invalid QoS in \(type)"
        case .zeroPacketID(let type): "packet identifier 0 in \(type)"
        case .invalidTopicName(let topic): "invalid topic name \"\(topic)\""
        case .noTopicFilters(let type): "\(type) without topic filters"
        case .reservedBitsSet(let type): "reserved bits set in \(type)"
        case .inconsistentConnectFlags: "inconsistent CONNECT flags"
        case .unknownProtocolName(let name): "unknown protocol name \"\(name)\""
        case .unsupportedProtocolLevel(let level): "unsupported protocol level \(level)"
        case .invalidReturnCode(let code): "invalid SUBACK return code 0x\(String(code, radix: 16))"
        case .stringTooLong(let length): "string of \(length) bytes is longer than 65535"
        case .bodyTooLong(let length): "packet body of \(length) bytes is longer than 268435455"
        case .malformedVariableByteInteger(let type): "variable byte integer longer than 4 bytes in \(type)"
        case .unknownProperty(let id, let type): "unknown property 0x\(String(id, radix: 16)) in \(type)"
        case .propertyNotAllowed(let id, let type): "property \(id) is not allowed in \(type)"
        case .duplicateProperty(let id, let type): "property \(id) appears twice in \(type)"
        case .invalidPropertyValue(let id, let type): "invalid value of property \(id) in \(type)"
        case .invalidReasonCode(let type, let code): "reason code 0x\(String(code, radix: 16)) is not allowed in \(type)"
        case .invalidRetainHandling(let value): "invalid retain handling \(value) in SUBSCRIBE"
        case .requiresMQTT5(let type): "\(type) carries what only MQTT 5 can encode"
        }
    }

    /// The reason code an MQTT 5 peer sends (in CONNACK or DISCONNECT)
    /// before closing a connection over this error (§4.13): Malformed Packet
    /// when the bytes cannot be parsed as the specification lays them out,
    /// Protocol Error when they parse but break one of its rules.
    ///
    /// Errors that only the encoder raises map to Implementation specific
    /// error.
    public var reasonCode: MQTTReasonCode {
        switch self {
        case .reservedPacketType, .invalidFlags, .malformedRemainingLength, .truncated, .trailingBytes,
             .invalidUTF8, .nullCharacter, .disallowedCharacter, .invalidQoS, .reservedBitsSet,
             .inconsistentConnectFlags, .malformedVariableByteInteger, .unknownProperty, .propertyNotAllowed:
            .malformedPacket
        case .zeroPacketID, .noTopicFilters, .invalidReturnCode, .duplicateProperty, .invalidPropertyValue,
             .invalidReasonCode, .invalidRetainHandling:
            .protocolError
        case .invalidTopicName: .topicNameInvalid
        case .packetTooLarge: .packetTooLarge
        case .unknownProtocolName, .unsupportedProtocolLevel: .unsupportedProtocolVersion
        case .stringTooLong, .bodyTooLong, .requiresMQTT5: .implementationSpecificError
        }
    }
}
