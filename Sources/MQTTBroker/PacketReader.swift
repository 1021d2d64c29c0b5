import MQTT
import NIOCore

/// Turns the bytes a connection reads into packets: `MQTTDecoder`, with the
/// bytes not yet made into packets kept until the next call (the start of a
/// packet whose end has not arrived, or packets held back by backpressure).
///
/// It stands in for a `ByteToMessageHandler`, which reserves two ring
/// buffers and a pipeline slot for every connection up front: about 500
/// bytes per idle device. Here an idle connection holds no buffer at all.
struct PacketReader {
    private var decoder: MQTTDecoder
    /// Bytes read and not yet decoded; nil when there are none.
    private var pending: ByteBuffer?

    init(maximumPacketSize: Int) {
        self.decoder = MQTTDecoder(maximumPacketSize: maximumPacketSize, supportedVersions: [.v3_1, .v3_1_1, .v5])
    }

    /// Adds bytes read from the socket, after those still pending.
    mutating func append(_ bytes: ByteBuffer) {
        guard var earlier = pending.take() else {
            pending = bytes
            return
        }
        var bytes = bytes
        if earlier.readerIndex > 0 {
            // Start afresh rather than grow a buffer whose front is spent.
            var joined = ByteBuffer()
            joined.reserveCapacity(earlier.readableBytes + bytes.readableBytes)
            joined.writeBuffer(&earlier)
            earlier = joined
        }
        earlier.writeBuffer(&bytes)
        pending = earlier
    }

    /// Hands `body` the complete packets, in order, for as long as it
    /// returns true; the rest wait for the next call. Throws
    /// `MQTTProtocolError` for malformed input.
    mutating func drain(_ body: (Packet) -> Bool) throws {
        guard var buffer = pending.take() else { return }
        while let packet = try decoder.decode(buffer: &buffer) {
            guard body(packet) else { break }
        }
        if buffer.readableBytes > 0 { pending = buffer }
    }
}
