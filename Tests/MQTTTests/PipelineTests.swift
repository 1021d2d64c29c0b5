import MQTT
import NIOCore
import NIOEmbedded
import Testing

/// Keeps the errors that reach it, as the broker's connection handler would.
private final class ErrorRecorder: ChannelInboundHandler {
    typealias InboundIn = Packet
    var errors: [Error] = []

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        errors.append(error)
    }
}

/// A channel with the decoder, the encoder and, last, `recorder`.
private func makeChannel(
    maximumPacketSize: Int = FixedHeaderLimits.maximumPacketSize, recorder: ErrorRecorder? = nil
) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MQTTDecoder(maximumPacketSize: maximumPacketSize)))
    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MQTTEncoder()))
    if let recorder { try channel.pipeline.syncOperations.addHandler(recorder) }
    return channel
}

private func readAllInbound(_ channel: EmbeddedChannel) throws -> [Packet] {
    var packets: [Packet] = []
    while let packet = try channel.readInbound(as: Packet.self) { packets.append(packet) }
    return packets
}

@Suite("The codec in a NIO pipeline", .timeLimit(.minutes(5)))
struct PipelineTests {
    let packets = samples.map(\.packet)
    let stream: [UInt8]

    init() throws {
        stream = try samples.flatMap { try encode($0.packet) }
    }

    @Test("several packets in one buffer all decode, in order")
    func severalPacketsInOneBuffer() throws {
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(bytes: stream))
        #expect(try readAllInbound(channel) == packets)
        #expect(try channel.finish().isClean)
    }

    @Test("a stream split at any byte boundary decodes the same")
    func splitAtEveryBoundary() throws {
        for split in 1..<stream.count {
            let channel = try makeChannel()
            try channel.writeInbound(ByteBuffer(bytes: stream[..<split]))
            try channel.writeInbound(ByteBuffer(bytes: stream[split...]))
            let decoded = try readAllInbound(channel)
            #expect(decoded == packets, "split at byte \(split)")
            #expect(try channel.finish().isClean)
        }
    }

    @Test("a stream fed one byte at a time decodes the same")
    func oneByteAtATime() throws {
        let channel = try makeChannel()
        for byte in stream { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(try readAllInbound(channel) == packets)
        #expect(try channel.finish().isClean)
    }

    @Test("the encoder writes the bytes of writeMQTTPacket")
    func encoderHandler() throws {
        let channel = try makeChannel()
        for packet in packets { try channel.writeOutbound(packet) }
        var written: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written += buffer.readableBytesView }
        #expect(written == stream)
        #expect(try channel.finish().isClean)
    }

    /// `MessageToByteHandler` treats an encoding error as fatal to the
    /// channel: the write fails and the error goes down the pipeline.
    @Test("a packet the encoder refuses fails its write and fires the error")
    func encoderError() throws {
        let recorder = ErrorRecorder()
        let channel = try makeChannel(recorder: recorder)
        let write = channel.writeAndFlush(Packet.puback(AckPacket(packetID: 0)))
        #expect(throws: MQTTProtocolError.zeroPacketID(.puback)) { try write.wait() }
        #expect(recorder.errors.first as? MQTTProtocolError == .zeroPacketID(.puback))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }

    @Test("malformed input fires the protocol error down the pipeline, after the good packets before it",
          arguments: [
              (hex("C0 01 00"), MQTTProtocolError.trailingBytes(.pingreq)),
              (hex("F0 00"), .reservedPacketType(15)),
              (hex("31 02 00 00"), .invalidTopicName("")),
              (packet(0x30, field("a/#")), .invalidTopicName("a/#")),
              (hex("30 80 80 80 80 01"), .malformedRemainingLength),
              (hex("32 02 00 01"), .truncated(.publish)),
              (packet(0x30, field(hex("ED A0 80")) + [1]), .invalidUTF8(.publish)),
          ])
    func errorFired(malformed: [UInt8], error: MQTTProtocolError) throws {
        let recorder = ErrorRecorder()
        let channel = try makeChannel(recorder: recorder)
        try channel.writeInbound(ByteBuffer(bytes: hex("C0 00") + malformed + hex("D0 00")))
        #expect(try readAllInbound(channel) == [.pingreq])
        #expect(recorder.errors.count == 1)
        #expect(recorder.errors.first as? MQTTProtocolError == error)
        _ = try? channel.finish()
    }

    @Test("a packet too large is refused before its body arrives")
    func packetTooLargeInPipeline() throws {
        let recorder = ErrorRecorder()
        let channel = try makeChannel(maximumPacketSize: 1024, recorder: recorder)
        try channel.writeInbound(ByteBuffer(bytes: hex("30 80 80 01")))
        #expect(recorder.errors.first as? MQTTProtocolError == .packetTooLarge(size: 16388, limit: 1024))
        _ = try? channel.finish()
    }
}
