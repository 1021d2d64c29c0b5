import MQTTTopics
import NIOCore

/// The primitive field types of MQTT (§1.5) on `ByteBuffer`.
extension ByteBuffer {
    /// Reads a length-prefixed UTF-8 string, enforcing the rules of
    /// `MQTTString.check`.
    mutating func readMQTTString(in type: PacketType) throws(MQTTProtocolError) -> String {
        guard let length = readInteger(as: UInt16.self),
              let bytes = readSlice(length: Int(length))
        else { throw .truncated(type) }
        guard let string = String(validating: bytes.readableBytesView, as: UTF8.self) else {
            throw .invalidUTF8(type)
        }
        try MQTTString.check(string, in: type)
        return string
    }

    /// Reads a length-prefixed run of bytes.
    mutating func readMQTTBinary(in type: PacketType) throws(MQTTProtocolError) -> ByteBuffer {
        guard let length = readInteger(as: UInt16.self),
              let bytes = readOwnedBuffer(length: Int(length))
        else { throw .truncated(type) }
        return bytes
    }

    /// Reads `length` bytes into storage of their own.
    ///
    /// A slice would share the storage of the whole read buffer, and a
    /// packet that is kept (a retained message, a queued one) would then pin
    /// kilobytes for a payload of a few bytes.
    mutating func readOwnedBuffer(length: Int) -> ByteBuffer? {
        readSlice(length: length).map { ByteBuffer(bytes: $0.readableBytesView) }
    }

    /// Reads a variable byte integer (§1.5.5) inside a packet body: a
    /// property length, a property identifier, a subscription identifier.
    mutating func readVariableByteInteger(in type: PacketType) throws(MQTTProtocolError) -> Int {
        switch VariableByteInteger.peek(self, at: readerIndex) {
        case .value(let value, let length):
            moveReaderIndex(forwardBy: length)
            return value
        case .incomplete: throw .truncated(type)
        case .tooLong: throw .malformedVariableByteInteger(type)
        }
    }

    mutating func readPacketID(in type: PacketType) throws(MQTTProtocolError) -> UInt16 {
        guard let id = readInteger(as: UInt16.self) else { throw .truncated(type) }
        return id
    }

    /// Writes a string whose length `MQTTString.encodedLength` has checked.
    mutating func writeMQTTString(_ string: String) {
        writeInteger(UInt16(string.utf8.count))
        writeString(string)
    }

    /// Writes bytes whose length `MQTTString.encodedLength` has checked.
    mutating func writeMQTTBinary(_ bytes: ByteBuffer) {
        writeInteger(UInt16(bytes.readableBytes))
        writeImmutableBuffer(bytes)
    }

    /// Writes the variable byte integer of §2.2.3 (MQTT 5: §1.5.5): the
    /// remaining length, and in MQTT 5 property lengths and subscription
    /// identifiers. Public for code that writes packets from pre-encoded
    /// parts (the benchmark's load generator).
    public mutating func writeRemainingLength(_ value: Int) {
        var value = value
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value > 0 { byte |= 0x80 }
            writeInteger(byte)
        } while value > 0
    }
}

/// The rules for the UTF-8 strings of §1.5.3.
enum MQTTString {
    /// Rejects a string with U+0000, a control character or a noncharacter
    /// (`MQTTCharacters`).
    static func check(_ string: String, in type: PacketType) throws(MQTTProtocolError) {
        guard let scalar = MQTTCharacters.firstDisallowed(in: string) else { return }
        throw scalar == "\0" ? .nullCharacter(type) : .disallowedCharacter(type, scalar)
    }

    /// The encoded size of a string field, after checking that it fits in
    /// one and holds only allowed characters.
    static func encodedLength(_ string: String, in type: PacketType) throws(MQTTProtocolError) -> Int {
        try check(string, in: type)
        return try encodedLength(byteCount: string.utf8.count)
    }

    static func encodedLength(_ bytes: ByteBuffer) throws(MQTTProtocolError) -> Int {
        try encodedLength(byteCount: bytes.readableBytes)
    }

    private static func encodedLength(byteCount: Int) throws(MQTTProtocolError) -> Int {
        guard byteCount <= Int(UInt16.max) else { throw .stringTooLong(byteCount) }
        return 2 + byteCount
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
    ///
    /// Errors are found as early as the bytes allow: a reserved type or
    /// wrong flags from the first byte alone. Type 15 is AUTH in MQTT 5 and
    /// reserved before.
    static func peek(_ buffer: ByteBuffer, version: ProtocolVersion) throws(MQTTProtocolError) -> FixedHeader? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        guard let type = PacketType(rawValue: first >> 4), type != .auth || version == .v5 else {
            throw .reservedPacketType(first >> 4)
        }
        let flags = first & 0x0F
        // CONNECT's flags wait for its protocol level: MQTT 3.1 does not fix them.
        if type != .connect, let required = type.requiredFlags, flags != required {
            throw .invalidFlags(type, flags)
        }

        switch VariableByteInteger.peek(buffer, at: start + 1) {
        case .value(let value, let length):
            return FixedHeader(type: type, flags: flags, remainingLength: value, length: 1 + length)
        case .incomplete: return nil
        case .tooLong: throw .malformedRemainingLength
        }
    }
}

/// The variable byte integer of §2.2.3 (MQTT 5: §1.5.5): seven bits a
/// byte, least significant first, in one to four bytes.
enum VariableByteInteger {
    enum Peeked {
        case value(Int, length: Int)
        /// The bytes end before the integer does.
        case incomplete
        /// A fifth byte would be needed.
        case tooLong
    }

    /// The integer at `index`, without consuming it.
    static func peek(_ buffer: ByteBuffer, at index: Int) -> Peeked {
        var value = 0
        for offset in 0..<4 {
            guard let byte = buffer.getInteger(at: index + offset, as: UInt8.self) else { return .incomplete }
            value |= Int(byte & 0x7F) << (7 * offset)
            if byte & 0x80 == 0 { return .value(value, length: offset + 1) }
        }
        return .tooLong
    }

    /// The bytes `ByteBuffer.writeRemainingLength` takes for `value`.
    static func encodedLength(_ value: Int) -> Int {
        switch value {
        case ..<128: 1
        case ..<16_384: 2
        case ..<2_097_152: 3
        default: 4
        }
    }
}
