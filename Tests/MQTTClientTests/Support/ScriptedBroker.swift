import MQTT
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An MQTT server on 127.0.0.1 that a test scripts packet by packet, for the
/// behaviour a real broker cannot be made to show on demand: a QoS 2 resend
/// before PUBREL, a SUBACK failure, acknowledgements withheld across a
/// reconnect, silence after CONNECT, a packet a broker must never send.
///
/// It answers CONNECT with `connack` and SUBSCRIBE with `suback` (or stays
/// silent when they return nil), PINGREQ with PINGRESP (unless told not
/// to); it records every packet and answers nothing else by itself.
final class ScriptedBroker: Sendable {
    struct Behaviour: Sendable {
        var answersPings = true
        var connack: @Sendable (ConnectPacket) -> ConnAckPacket? = { _ in ConnAckPacket(returnCode: .accepted) }
        /// Nil withholds the SUBACK.
        var suback: @Sendable (SubscribePacket) -> SubAckPacket? = { subscribe in
            SubAckPacket(packetID: subscribe.packetID, returnCodes: subscribe.subscriptions.map { .init(granted: $0.qos) })
        }
    }

    private struct State {
        var received: [Packet] = []
        var connection: (any Channel)?
        var connectionCount = 0
    }

    let port: Int
    private let server: any Channel
    private let state: NIOLockedValueBox<State>

    init(_ behaviour: Behaviour = Behaviour()) async throws {
        let state = NIOLockedValueBox(State())
        self.state = state
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(MQTTDecoder()))
                    try pipeline.addHandler(MessageToByteHandler(MQTTEncoder()))
                    try pipeline.addHandler(Handler(state: state, behaviour: behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        port = server.localAddress!.port!
    }

    /// Every packet received, on all connections, in order.
    var received: [Packet] { state.withLockedValue { $0.received } }

    var connectionCount: Int { state.withLockedValue { $0.connectionCount } }

    /// Sends a packet on the latest connection.
    func send(_ packet: Packet) async throws {
        guard let connection = state.withLockedValue({ $0.connection }) else { throw TimedOut(what: "a connection") }
        try await connection.writeAndFlush(packet)
    }

    /// Closes the latest connection, as a broker that crashed would.
    func dropConnection() async {
        try? await state.withLockedValue { $0.connection }?.close()
    }

    /// Waits for a received packet that `matches`, after the first `skipping` ones.
    @discardableResult
    func waitForPacket(
        _ what: String, after skipping: Int = 0, _ matches: @escaping @Sendable (Packet) -> Bool
    ) async throws -> Packet {
        try await waitUntil("the broker to receive \(what) (has \(received))", timeout: .seconds(30)) {
            self.received.dropFirst(skipping).contains(where: matches)
        }
        return received.dropFirst(skipping).first(where: matches)!
    }

    func stop() async throws {
        // Listening ends first, so that a reconnecting client finds no one.
        try await server.close()
        await dropConnection()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = Packet
        typealias OutboundOut = Packet

        let state: NIOLockedValueBox<State>
        let behaviour: Behaviour

        init(state: NIOLockedValueBox<State>, behaviour: Behaviour) {
            self.state = state
            self.behaviour = behaviour
        }

        func channelActive(context: ChannelHandlerContext) {
            let channel = context.channel
            state.withLockedValue {
                $0.connection = channel
                $0.connectionCount += 1
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let packet = unwrapInboundIn(data)
            state.withLockedValue { $0.received.append(packet) }
            switch packet {
            case .connect(let connect):
                if let connack = behaviour.connack(connect) {
                    context.writeAndFlush(wrapOutboundOut(.connack(connack)), promise: nil)
                }
            case .subscribe(let subscribe):
                if let suback = behaviour.suback(subscribe) {
                    context.writeAndFlush(wrapOutboundOut(.suback(suback)), promise: nil)
                }
            case .pingreq where behaviour.answersPings:
                context.writeAndFlush(wrapOutboundOut(.pingresp), promise: nil)
            case .disconnect:
                context.close(promise: nil)
            default:
                break
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
