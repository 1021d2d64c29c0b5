import NIOCore

/// Splits a byte stream into MQTT packets.
///
/// A packet is handed on once all its bytes have arrived; one larger than
/// `maximumPacketSize` is refused as soon as its fixed header is complete,
/// before its body is buffered. Errors are thrown as `MQTTProtocolError`;
/// `ByteToMessageHandler` passes them down the pipeline, where the
/// connection's owner closes it.
///
/// Binary fields of the packets (payloads, passwords) own their bytes rather
/// than share the read buffer, so that keeping a packet keeps only its bytes.
public struct MQTTDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Packet

    /// The largest packet accepted, fixed header included.
    public let maximumPacketSize: Int

    public init(maximumPacketSize: Int = FixedHeaderLimits.maximumPacketSize) {
        self.maximumPacketSize = maximumPacketSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Packet? {
        guard let header = try FixedHeader.peek(buffer) else { return nil }
        let size = header.length + header.remainingLength
        guard size <= maximumPacketSize else { throw MQTTProtocolError.packetTooLarge(size: size, limit: maximumPacketSize) }
        guard buffer.readableBytes >= size else { return nil }
        buffer.moveReaderIndex(forwardBy: header.length)
        var body = buffer.readSlice(length: header.remainingLength)!
        return try Packet.decode(header: header, body: &body)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Packet? {
        try decode(buffer: &buffer)
    }
}

/// Writes MQTT packets as bytes.
public struct MQTTEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Packet

    public init() {}

    public func encode(data: Packet, out: inout ByteBuffer) throws {
        try out.writeMQTTPacket(data)
    }
}

/// Size limits from the specification.
public enum FixedHeaderLimits {
    /// The largest packet that MQTT 3.1.1 can express: a 4-byte remaining
    /// length of 268,435,455 plus the 5-byte fixed header.
    public static let maximumPacketSize = 268_435_460
}
