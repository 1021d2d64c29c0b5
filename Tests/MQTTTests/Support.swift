import MQTT
import NIOCore

/// The wire form of `packet`.
func encode(_ packet: Packet) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try buffer.writeMQTTPacket(packet)
    return Array(buffer.readableBytesView)
}

/// Decodes the first packet of `bytes`; nil when the decoder needs more.
func decode(
    _ bytes: [UInt8], maximumPacketSize: Int = FixedHeaderLimits.maximumPacketSize
) throws -> Packet? {
    var decoder = MQTTDecoder(maximumPacketSize: maximumPacketSize)
    var buffer = ByteBuffer(bytes: bytes)
    return try decoder.decode(buffer: &buffer)
}

/// Decodes packets from `bytes` until the decoder needs more.
func decodeAll(_ bytes: [UInt8]) throws -> (packets: [Packet], leftover: Int) {
    var decoder = MQTTDecoder()
    var buffer = ByteBuffer(bytes: bytes)
    var packets: [Packet] = []
    while let packet = try decoder.decode(buffer: &buffer) { packets.append(packet) }
    return (packets, buffer.readableBytes)
}

/// Bytes written as hex pairs, spaces ignored: `hex("C0 00")`.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count.isMultiple(of: 2), "odd number of hex digits in \(text)")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// A length-prefixed MQTT string or binary field.
func field(_ bytes: [UInt8]) -> [UInt8] {
    [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
}

func field(_ string: String) -> [UInt8] {
    field(Array(string.utf8))
}

func uint16(_ value: UInt16) -> [UInt8] {
    [UInt8(value >> 8), UInt8(value & 0xFF)]
}

/// A packet built by hand: the first byte, the remaining length, the body.
func packet(_ firstByte: UInt8, _ body: [UInt8]) -> [UInt8] {
    var buffer = ByteBuffer()
    buffer.writeVariableByteInteger(body.count)
    return [firstByte] + Array(buffer.readableBytesView) + body
}

/// The body of a CONNECT, for building malformed ones.
func connectBody(
    name: String = "MQTT", level: UInt8 = 4, flags: UInt8 = 0x02, keepAlive: UInt16 = 60,
    clientID: [UInt8] = Array("client".utf8), rest: [UInt8] = []
) -> [UInt8] {
    field(name) + [level, flags] + uint16(keepAlive) + field(clientID) + rest
}

extension ByteBuffer {
    /// The variable byte integer of §2.2.3, written here independently of the
    /// codec's own writer.
    mutating func writeVariableByteInteger(_ value: Int) {
        var value = value
        repeat {
            let byte = UInt8(value % 128)
            value /= 128
            writeInteger(value > 0 ? byte | 0x80 : byte)
        } while value > 0
    }
}

