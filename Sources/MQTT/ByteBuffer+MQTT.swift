import NIOCore

/// The primitive field types of MQTT (§1.5) on `ByteBuffer`.
extension ByteBuffer {
    /// Reads a length-prefixed UTF-8 string, enforcing well-formedness and
    /// the absence of U+0000 (§1.5.3).
    mutating func readMQTTString(in type: PacketType) throws(MQTTProtocolError) -> String {
        let bytes = try readMQTTBinary(in: type)
        return try MQTTString.validate(bytes, in: type)
    }

    /// Reads a length-prefixed run of bytes.
    mutating func readMQTTBinary(in type: PacketType) throws(MQTTProtocolError) -> ByteBuffer {
        guard let length = readInteger(as: UInt16.self),
              let bytes = readSlice(length: Int(length))
        else { throw .truncated(type) }
        return bytes
    }

    mutating func readPacketID(in type: PacketType) throws(MQTTProtocolError) -> UInt16 {
        guard let id = readInteger(as: UInt16.self) else { throw .truncated(type) }
        guard id != 0 else { throw .zeroPacketID(type) }
        return id
    }

    mutating func writeMQTTString(_ string: String) throws(MQTTProtocolError) {
        let length = string.utf8.count
        guard length <= Int(UInt16.max) else { throw .stringTooLong(length) }
        writeInteger(UInt16(length))
        writeString(string)
    }

    mutating func writeMQTTBinary(_ bytes: ByteBuffer) throws(MQTTProtocolError) {
        guard bytes.readableBytes <= Int(UInt16.max) else { throw .stringTooLong(bytes.readableBytes) }
        writeInteger(UInt16(bytes.readableBytes))
        writeImmutableBuffer(bytes)
    }

    /// Writes the variable byte integer of §2.2.3.
    mutating func writeRemainingLength(_ value: Int) {
        var value = value
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value > 0 { byte |= 0x80 }
            writeInteger(byte)
        } while value > 0
    }
}

enum MQTTString {
    static func validate(_ bytes: ByteBuffer, in type: PacketType) throws(MQTTProtocolError) -> String {
        let view = bytes.readableBytesView
        if view.contains(0) { throw .nullCharacter(type) }
        guard let string = String(validating: view, as: UTF8.self) else { throw .invalidUTF8(type) }
        return string
    }
}

/// The first byte and remaining length of a packet (§2.2).
struct FixedHeader {
    static let maximumRemainingLength = 268_435_455

    var type: PacketType
    var flags: UInt8
    var remainingLength: Int
    /// Bytes taken by the fixed header itself: 2 to 5.
    var length: Int

    /// Reads the fixed header at the buffer's reader index without consuming
    /// it; nil when more bytes are needed to know it.
    static func peek(_ buffer: ByteBuffer) throws(MQTTProtocolError) -> FixedHeader? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        guard let type = PacketType(rawValue: first >> 4) else { throw .reservedPacketType(first >> 4) }
        let flags = first & 0x0F
        if let required = type.requiredFlags, flags != required { throw .invalidFlags(type, flags) }

        var value = 0
        var multiplier = 1
        for offset in 1...4 {
            guard let byte = buffer.getInteger(at: start + offset, as: UInt8.self) else { return nil }
            value += Int(byte & 0x7F) * multiplier
            if byte & 0x80 == 0 {
                return FixedHeader(type: type, flags: flags, remainingLength: value, length: 1 + offset)
            }
            multiplier *= 128
        }
        throw .malformedRemainingLength
    }
}
