import MQTT
import NIOCore

/// `MQTTDecoder` that also counts the bytes of the packets it decodes, for
/// `$SYS/broker/bytes/received`, without a handler of its own per connection.
struct CountingDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = Packet

    private var decoder: MQTTDecoder
    private let statistics: BrokerStatistics

    init(maximumPacketSize: Int, statistics: BrokerStatistics) {
        self.decoder = MQTTDecoder(maximumPacketSize: maximumPacketSize)
        self.statistics = statistics
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> Packet? {
        let before = buffer.readerIndex
        let packet = try decoder.decode(buffer: &buffer)
        statistics.bytesReceived += buffer.readerIndex - before
        return packet
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Packet? {
        try decode(buffer: &buffer)
    }
}
