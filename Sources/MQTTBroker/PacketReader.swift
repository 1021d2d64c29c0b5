import MQTT
import NIOCore

/// Turns the bytes a connection reads into packets: `MQTTDecoder`, with the
/// start of a packet whose end has not arrived kept until the next read.
///
/// It stands in for a `ByteToMessageHandler`, which reserves two ring
/// buffers and a pipeline slot for every connection up front: about 500
/// bytes per idle device. Here an idle connection holds no buffer at all.
struct PacketReader {
    private var decoder: MQTTDecoder
    /// Bytes of a packet not complete yet; nil between whole packets.
    private var unfinished: ByteBuffer?

    init(maximumPacketSize: Int) {
        self.decoder = MQTTDecoder(maximumPacketSize: maximumPacketSize)
    }

    /// Hands `body` every packet completed by `bytes`, in order, for as long
    /// as it returns true. Throws `MQTTProtocolError` for malformed input.
    mutating func read(_ bytes: ByteBuffer, _ body: (Packet) -> Bool) throws {
        var buffer = bytes
        if var unfinished = self.unfinished.take() {
            unfinished.writeBuffer(&buffer)
            buffer = unfinished
        }
        while let packet = try decoder.decode(buffer: &buffer) {
            guard body(packet) else { return }
        }
        if buffer.readableBytes > 0 {
            unfinished = buffer
        }
    }
}
