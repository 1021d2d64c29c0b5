import MQTT
import NIOCore

/// Every protocol version, for decoders that accept an MQTT 5 CONNECT.
let allVersions: Set<ProtocolVersion> = [.v3_1, .v3_1_1, .v5]

/// The wire form of `packet` on an MQTT 5 connection.
func encode5(_ packet: Packet) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try buffer.writeMQTTPacket(packet, version: .v5)
    return Array(buffer.readableBytesView)
}

/// Decodes the first packet of `bytes` on an MQTT 5 connection.
func decode5(_ bytes: [UInt8]) throws -> Packet? {
    var decoder = MQTTDecoder(version: .v5, supportedVersions: allVersions)
    var buffer = ByteBuffer(bytes: bytes)
    return try decoder.decode(buffer: &buffer)
}

/// A property as bytes: its identifier, then its value as given.
func property(_ id: PropertyIdentifier, _ value: [UInt8]) -> [UInt8] {
    [id.rawValue] + value
}

/// A property length (a variable byte integer) and the properties.
func properties(_ parts: [UInt8]...) -> [UInt8] {
    let bytes = parts.flatMap { $0 }
    var buffer = ByteBuffer()
    buffer.writeVariableByteInteger(bytes.count)
    return Array(buffer.readableBytesView) + bytes
}

func uint32(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
}

extension Properties {
    /// Properties built in a closure: `Properties { $0.topicAlias = 1 }`.
    init(_ build: (inout Properties) -> Void) {
        self.init()
        build(&self)
    }
}
