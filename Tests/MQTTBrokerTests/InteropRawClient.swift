import NIOCore
import NIOPosix
import Synchronization

/// A TCP connection that speaks bytes, not MQTT: for what no well-behaved
/// client does (silence past the keepalive, malformed packets).
///
/// What must happen on time (the first bytes, pings) happens on the
/// connection's event loop: the test's own task may wait long for a thread
/// when the cooperative pool is busy, and the broker's CONNECT timeout and
/// keepalive do not wait for it.
final class InteropRawClient: Sendable {
    private let channel: any Channel
    private let recorder: Recorder

    private init(channel: any Channel, recorder: Recorder) {
        self.channel = channel
        self.recorder = recorder
    }

    /// Connects and writes `firstBytes` as soon as the connection is up;
    /// with `pingEvery`, sends PINGREQ at that interval from then on.
    static func connect(port: Int, sending firstBytes: [UInt8] = [], pingEvery: TimeAmount? = nil) async throws -> InteropRawClient {
        let recorder = Recorder(firstBytes: firstBytes, pingInterval: pingEvery)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(recorder) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return InteropRawClient(channel: channel, recorder: recorder)
    }

    /// Connects and completes the CONNECT / CONNACK exchange.
    static func connected(port: Int, _ connectPacket: [UInt8], pingEvery: TimeAmount? = nil) async throws -> InteropRawClient {
        let client = try await connect(port: port, sending: connectPacket, pingEvery: pingEvery)
        let connack = await client.waitForBytes(4)
        guard connack.starts(with: InteropWire.connackAccepted) else {
            await client.close()
            throw InteropFailure("expected CONNACK accepted, got \(connack)")
        }
        return client
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Everything the broker sent so far.
    var received: [UInt8] { recorder.state.withLock { $0.bytes } }

    /// Waits until at least `count` bytes arrived (or 10 s passed) and
    /// returns what arrived.
    func waitForBytes(_ count: Int, timeout: Duration = .seconds(10)) async -> [UInt8] {
        _ = await interopWait(timeout) { received.count >= count }
        return received
    }

    /// Waits until at least `count` whole packets arrived (or `timeout`
    /// passed) and returns every packet received so far.
    func waitForPackets(_ count: Int, timeout: Duration = .seconds(10)) async -> [[UInt8]] {
        _ = await interopWait(timeout) { InteropWire.packets(in: received).count >= count }
        return InteropWire.packets(in: received)
    }

    /// When the connection closed, if it has; stamped on its event loop.
    var closedAt: ContinuousClock.Instant? { recorder.state.withLock { $0.closedAt } }

    /// When the connection closed, waiting up to `timeout`; nil if still open.
    func waitForClose(timeout: Duration = .seconds(10)) async -> ContinuousClock.Instant? {
        _ = await interopWait(timeout) { recorder.state.withLock { $0.closedAt != nil } }
        return recorder.state.withLock { $0.closedAt }
    }

    func close() async {
        try? await channel.close()
    }

    /// Writes the first bytes and the pings; keeps the bytes read and the
    /// moment the connection closed.
    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        struct State {
            var bytes: [UInt8] = []
            var closedAt: ContinuousClock.Instant?
        }

        let state = Mutex(State())
        private let firstBytes: [UInt8]
        private let pingInterval: TimeAmount?

        init(firstBytes: [UInt8], pingInterval: TimeAmount?) {
            self.firstBytes = firstBytes
            self.pingInterval = pingInterval
        }

        func channelActive(context: ChannelHandlerContext) {
            if !firstBytes.isEmpty {
                context.writeAndFlush(NIOAny(ByteBuffer(bytes: firstBytes)), promise: nil)
            }
            if let pingInterval {
                let channel = context.channel
                context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { task in
                    guard channel.isActive else {
                        task.cancel()
                        return
                    }
                    channel.writeAndFlush(ByteBuffer(bytes: InteropWire.pingreq), promise: nil)
                }
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closedAt = .now }
            context.fireChannelInactive()
        }
    }
}

/// MQTT 3.1.1 packets written byte by byte from the specification, so that
/// the raw tests do not lean on our own encoder.
enum InteropWire {
    static let connackAccepted: [UInt8] = [0x20, 0x02, 0x00, 0x00]
    static let pingreq: [UInt8] = [0xC0, 0x00]
    static let pingresp: [UInt8] = [0xD0, 0x00]
    static let disconnect: [UInt8] = [0xE0, 0x00]

    struct Will {
        var topic: String
        var payload: String
        var qos: UInt8 = 0
        var retain = false
    }

    /// A fixed header (first byte, remaining length of §2.2.3) and the body.
    static func packet(_ firstByte: UInt8, _ body: [UInt8]) -> [UInt8] {
        var bytes = [firstByte]
        var length = body.count
        repeat {
            var digit = UInt8(length % 128)
            length /= 128
            if length > 0 { digit |= 0x80 }
            bytes.append(digit)
        } while length > 0
        return bytes + body
    }

    /// A UTF-8 string with its two-byte length (§1.5.3).
    static func string(_ text: String) -> [UInt8] {
        bytes(Array(text.utf8))
    }

    /// Bytes with their two-byte length.
    static func bytes(_ raw: [UInt8]) -> [UInt8] {
        [UInt8(raw.count >> 8), UInt8(raw.count & 0xFF)] + raw
    }

    static func connect(clientID: String, keepAlive: UInt16, cleanSession: Bool = true, will: Will? = nil) -> [UInt8] {
        var flags: UInt8 = cleanSession ? 0x02 : 0
        if let will {
            flags |= 0x04 | will.qos << 3 | (will.retain ? 0x20 : 0)
        }
        var body = string("MQTT") + [0x04, flags, UInt8(keepAlive >> 8), UInt8(keepAlive & 0xFF)]
        body += string(clientID)
        if let will { body += string(will.topic) + string(will.payload) }
        return packet(0x10, body)
    }

    /// A QoS 0 PUBLISH; `topic` goes on the wire as given, valid or not.
    static func publish(topicBytes: [UInt8], payload: String, flags: UInt8 = 0) -> [UInt8] {
        packet(0x30 | flags, bytes(topicBytes) + Array(payload.utf8))
    }

    static func publish(topic: String, payload: String) -> [UInt8] {
        publish(topicBytes: Array(topic.utf8), payload: payload)
    }

    /// A QoS 1 or 2 PUBLISH.
    static func publish(topic: String, payload: String, qos: UInt8, id: UInt16, dup: Bool = false) -> [UInt8] {
        packet(0x30 | (dup ? 0x08 : 0) | qos << 1, string(topic) + [UInt8(id >> 8), UInt8(id & 0xFF)] + Array(payload.utf8))
    }

    static func puback(_ id: UInt16) -> [UInt8] { [0x40, 0x02, UInt8(id >> 8), UInt8(id & 0xFF)] }
    static func pubrec(_ id: UInt16) -> [UInt8] { [0x50, 0x02, UInt8(id >> 8), UInt8(id & 0xFF)] }
    static func pubrel(_ id: UInt16) -> [UInt8] { [0x62, 0x02, UInt8(id >> 8), UInt8(id & 0xFF)] }
    static func pubcomp(_ id: UInt16) -> [UInt8] { [0x70, 0x02, UInt8(id >> 8), UInt8(id & 0xFF)] }

    static func connack(sessionPresent: Bool = false, returnCode: UInt8 = 0) -> [UInt8] {
        [0x20, 0x02, sessionPresent ? 1 : 0, returnCode]
    }

    static func subscribe(id: UInt16, _ filters: [(filter: String, qos: UInt8)]) -> [UInt8] {
        packet(0x82, [UInt8(id >> 8), UInt8(id & 0xFF)] + filters.flatMap { string($0.filter) + [$0.qos] })
    }

    static func suback(id: UInt16, _ codes: [UInt8]) -> [UInt8] {
        packet(0x90, [UInt8(id >> 8), UInt8(id & 0xFF)] + codes)
    }

    /// Splits a byte stream into whole packets; an incomplete tail is left out.
    static func packets(in bytes: [UInt8]) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        var start = 0
        while start + 1 < bytes.count {
            var length = 0, multiplier = 1, index = start + 1
            while index < bytes.count {
                length += Int(bytes[index] & 0x7F) * multiplier
                multiplier *= 128
                index += 1
                if bytes[index - 1] & 0x80 == 0 { break }
            }
            guard bytes[index - 1] & 0x80 == 0, index + length <= bytes.count else { break }
            packets.append(Array(bytes[start..<(index + length)]))
            start = index + length
        }
        return packets
    }
}
