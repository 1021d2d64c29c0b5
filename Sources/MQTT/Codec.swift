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
///
/// ## Versions
///
/// MQTT 5 bodies differ from 3.1.1's in every packet after CONNECT, and
/// nothing in them says which they are: the decoder reads them in
/// `version`, the connection's protocol version. CONNECT names its own, so
/// decoding one sets `version` to it: a server's decoder learns the version
/// from the client's first packet by itself. A client's decoder never sees
/// CONNECT; its owner, which chose the version, passes it to `init` (or sets
/// `version` before CONNACK arrives).
///
/// A CONNECT for a version outside `supportedVersions` is refused with
/// `unsupportedProtocolLevel` before its properties are read, so that a
/// server can answer it. MQTT 5 is left out by default: a server that
/// accepts it must speak it too.
public struct MQTTDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Packet

    /// The largest packet accepted, fixed header included.
    public let maximumPacketSize: Int
    /// The version whose bodies are decoded; a decoded CONNECT sets it.
    public var version: ProtocolVersion
    /// The versions a CONNECT may ask for.
    public let supportedVersions: Set<ProtocolVersion>

    public init(
        maximumPacketSize: Int = FixedHeaderLimits.maximumPacketSize,
        version: ProtocolVersion = .v3_1_1,
        supportedVersions: Set<ProtocolVersion> = [.v3_1, .v3_1_1]
    ) {
        self.maximumPacketSize = maximumPacketSize
        self.version = version
        self.supportedVersions = supportedVersions
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Packet? {
        guard let header = try FixedHeader.peek(buffer, version: version) else { return nil }
        let size = header.length + header.remainingLength
        guard size <= maximumPacketSize else { throw MQTTProtocolError.packetTooLarge(size: size, limit: maximumPacketSize) }
        guard buffer.readableBytes >= size else { return nil }
        buffer.moveReaderIndex(forwardBy: header.length)
        var body = buffer.readSlice(length: header.remainingLength)!
        let packet = try Packet.decode(header: header, body: &body, version: version, supportedVersions: supportedVersions)
        if case .connect(let connect) = packet { version = connect.protocolVersion }
        return packet
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Packet? {
        try decode(buffer: &buffer)
    }
}

/// Writes MQTT packets as bytes, in the version given at creation (see
/// `ByteBuffer.writeMQTTPacket(_:version:)`): the encoder stays a pure
/// function of the packet. A server that learns the version from CONNECT
/// writes with `writeMQTTPacket` and the version it learnt.
public struct MQTTEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Packet

    public let version: ProtocolVersion

    public init(version: ProtocolVersion = .v3_1_1) {
        self.version = version
    }

    public func encode(data: Packet, out: inout ByteBuffer) throws {
        try out.writeMQTTPacket(data, version: version)
    }
}

/// Size limits from the specification.
public enum FixedHeaderLimits {
    /// The largest packet that MQTT 3.1.1 can express: a 4-byte remaining
    /// length of 268,435,455 plus the 5-byte fixed header.
    public static let maximumPacketSize = 268_435_460
}
