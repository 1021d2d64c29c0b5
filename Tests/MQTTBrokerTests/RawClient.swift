import Foundation
import Logging
import MQTT
import MQTTBroker
import NIOCore
import NIOPosix
import Synchronization

/// A bare MQTT connection for broker tests: sends exactly the packets (or
/// bytes) a test gives it and records every packet the broker sends back, so
/// that flags, packet ids and ordering can be asserted.
final class RawClient: Sendable {
    private let channel: any Channel
    private let inbox: Inbox
    /// The version packets are written and read in.
    let version: ProtocolVersion

    /// - Parameter autoRead: false makes a consumer that never reads its socket.
    /// - Parameter group: where the connection runs; the shared singleton
    ///   unless a test must not depend on what other tests do on it.
    static func connect(
        to port: Int, autoRead: Bool = true, version: ProtocolVersion = .v3_1_1,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RawClient {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.autoRead, value: autoRead)
            .channelOption(.socketOption(.so_rcvbuf), value: autoRead ? 65_536 : 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(MQTTDecoder(version: version, supportedVersions: [.v3_1, .v3_1_1, .v5])),
                        Recorder(inbox: inbox),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawClient(channel: channel, inbox: inbox, version: version)
    }

    /// Connects and completes CONNECT / CONNACK.
    static func connected(
        to port: Int, clientID: String, cleanSession: Bool = true, keepAlive: UInt16 = 60, will: Will? = nil,
        version: ProtocolVersion = .v3_1_1, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> (RawClient, ConnAckPacket) {
        try await connected(to: port, ConnectPacket(
            protocolVersion: version, clientID: clientID, cleanSession: cleanSession, keepAlive: keepAlive, will: will),
            group: group)
    }

    /// Connects with this CONNECT, in its version, and completes CONNECT / CONNACK.
    static func connected(
        to port: Int, _ connect: ConnectPacket, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> (RawClient, ConnAckPacket) {
        let client = try await self.connect(to: port, version: connect.protocolVersion, group: group)
        try await client.send(.connect(connect))
        guard case .connack(let connack) = try await client.next() else { throw RawClientError.unexpected("no CONNACK") }
        return (client, connack)
    }

    /// An MQTT 5 connection, its CONNECT built by `configure`.
    static func connected5(
        to port: Int, clientID: String, cleanStart: Bool = true, _ configure: (inout ConnectPacket) -> Void = { _ in }
    ) async throws -> (RawClient, ConnAckPacket) {
        var connect = ConnectPacket(protocolVersion: .v5, clientID: clientID, cleanSession: cleanStart)
        configure(&connect)
        return try await connected(to: port, connect)
    }

    private init(channel: any Channel, inbox: Inbox, version: ProtocolVersion) {
        self.channel = channel
        self.inbox = inbox
        self.version = version
    }

    func send(_ packet: Packet) async throws {
        var buffer = channel.allocator.buffer(capacity: 64)
        try buffer.writeMQTTPacket(packet, version: version)
        try await channel.writeAndFlush(buffer)
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Sends `packet` (a CONNECT) and starts PINGREQs every `interval`, both
    /// on the connection's event loop at once: no wait for the task pool
    /// comes between them, however loaded the machine. Cancel the returned
    /// task to stop.
    func send(_ packet: Packet, thenPingEvery interval: TimeAmount) async throws -> RepeatedTask {
        var first = channel.allocator.buffer(capacity: 64)
        try first.writeMQTTPacket(packet, version: version)
        var ping = channel.allocator.buffer(capacity: 2)
        try ping.writeMQTTPacket(.pingreq, version: version)
        let channel = self.channel
        return try await channel.eventLoop.submit { [first, ping] in
            channel.writeAndFlush(first, promise: nil)
            return channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                channel.writeAndFlush(ping, promise: nil)
            }
        }.get()
    }

    /// The PINGRESPs received and not yet taken.
    var pingResponseCount: Int { inbox.count(of: .pingresp) }

    var isClosed: Bool { inbox.isClosed }

    func subscribe(_ filter: String, qos: QoS = .atMostOnce, packetID: UInt16 = 1) async throws -> [SubscribeReturnCode] {
        try await subscribe([TopicSubscription(filter: filter, qos: qos)], packetID: packetID)
    }

    /// Subscribes with these options and properties (MQTT 5), returning the SUBACK's codes.
    func subscribe(
        _ subscriptions: [TopicSubscription], properties: Properties = Properties(), packetID: UInt16 = 1
    ) async throws -> [SubscribeReturnCode] {
        try await send(.subscribe(SubscribePacket(packetID: packetID, subscriptions: subscriptions, properties: properties)))
        guard case .suback(let suback) = try await next() else { throw RawClientError.unexpected("no SUBACK") }
        return suback.returnCodes
    }

    /// The next packet from the broker; throws when none comes in time or the
    /// connection closed.
    func next(timeout: Duration = .seconds(30)) async throws -> Packet {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            switch inbox.take() {
            case .packet(let packet): return packet
            case .closed: throw RawClientError.closed
            case .empty: try await Task.sleep(for: .milliseconds(5))
            }
        }
        throw RawClientError.timedOut
    }

    /// The next PUBLISH, failing on anything else.
    func nextPublish(timeout: Duration = .seconds(30)) async throws -> PublishPacket {
        let packet = try await next(timeout: timeout)
        guard case .publish(let publish) = packet else { throw RawClientError.unexpected("expected PUBLISH, got \(packet)") }
        return publish
    }

    /// Sends PINGREQ and waits for its PINGRESP, leaving every other packet
    /// to be read: once it is back, the broker has handled everything this
    /// connection sent before (and routed what that published).
    func roundTrip(timeout: Duration = .seconds(30)) async throws {
        _ = try await pingThrough(timeout: timeout, takingEarlier: false)
    }

    /// Proves that nothing reaches this client, with barriers rather than a
    /// wait: a round trip through each connection whose packets could cause
    /// a delivery (`paths`), then one through this connection, which fails
    /// if a PUBLISH arrives before its PINGRESP.
    func expectNothing(after paths: [RawClient] = [], timeout: Duration = .seconds(30)) async throws {
        for path in paths { try await path.roundTrip(timeout: timeout) }
        let earlier = try await pingThrough(timeout: timeout, takingEarlier: true)
        if let publish = earlier.first(where: { if case .publish = $0 { true } else { false } }) {
            throw RawClientError.unexpected("expected nothing, got \(publish)")
        }
    }

    private func pingThrough(timeout: Duration, takingEarlier: Bool) async throws -> [Packet] {
        try await send(.pingreq)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let earlier = inbox.removePingResp(takingEarlier: takingEarlier) { return earlier }
            if inbox.isClosed { throw RawClientError.closed }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw RawClientError.timedOut
    }

    /// Waits for the broker to close the connection; false if it did not in time.
    func waitForClose(timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inbox.isClosed { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return inbox.isClosed
    }

    /// Starts reading, for a client connected with `autoRead: false`.
    func startReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
    }

    /// Drops the socket without DISCONNECT, as a device losing power does.
    func drop() async {
        try? await channel.close()
    }

    deinit { channel.close(promise: nil) }
}

enum RawClientError: Error {
    case timedOut
    case closed
    case unexpected(String)
}

private final class Inbox: Sendable {
    enum Item { case packet(Packet), closed, empty }
    private let state = Mutex<(packets: [Packet], closed: Bool)>(([], false))

    func append(_ packet: Packet) { state.withLock { $0.packets.append(packet) } }
    func close() { state.withLock { $0.closed = true } }
    var isClosed: Bool { state.withLock { $0.closed } }
    func count(of packet: Packet) -> Int { state.withLock { $0.packets.count { $0 == packet } } }

    /// Removes the first PINGRESP, and the packets before it when
    /// `takingEarlier` (returned); nil while none has arrived.
    func removePingResp(takingEarlier: Bool) -> [Packet]? {
        state.withLock { state in
            guard let index = state.packets.firstIndex(of: .pingresp) else { return nil }
            let earlier = Array(state.packets[..<index])
            state.packets.remove(at: index)
            if takingEarlier { state.packets.removeFirst(index) }
            return earlier
        }
    }

    func take() -> Item {
        state.withLock { state in
            if !state.packets.isEmpty { return .packet(state.packets.removeFirst()) }
            return state.closed ? .closed : .empty
        }
    }
}

private final class Recorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = Packet
    let inbox: Inbox

    init(inbox: Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.append(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.close()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// A broker on a free loopback port, shut down by `withBroker`.
func withBroker<T>(
    _ configure: (inout BrokerConfiguration) -> Void = { _ in },
    _ body: (MQTTBroker, Int) async throws -> T
) async throws -> T {
    var configuration = BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil)
    // A test's CONNECT follows its TCP connect at once, unless the test process is starved: once, on a loaded
    // machine, many tests at the same moment found their connection closed after the default 10 s, and failed
    // with "I/O on closed channel". The timeout's own test sets its own.
    configuration.connectTimeout = .seconds(60)
    configure(&configuration)
    let broker = MQTTBroker(configuration: configuration, logger: quietLogger)
    try await broker.start()
    let port = broker.boundAddresses.first?.port ?? 0
    do {
        let result = try await body(broker, port)
        await broker.shutdown()
        return result
    } catch {
        await broker.shutdown()
        throw error
    }
}

extension ByteBuffer {
    var string: String { String(buffer: self) }
}

/// Broker logs below errors would drown the test output.
let quietLogger: Logger = {
    var logger = Logger(label: "test.broker")
    logger.logLevel = .error
    return logger
}()
