import MQTT
import MQTTBroker
import NIOCore
import NIOPosix
import Synchronization

/// A listener made only of the public TLS functions and the MQTT codec, in
/// the order the broker's listener uses them, with a tiny responder behind:
/// it accepts every CONNECT, grants every SUBSCRIBE, then publishes
/// ``greeting`` on the first filter. Each client's certificate identity is
/// recorded as a connection handler learns it.
final class TLSTestServer: Sendable {
    static let greeting = "hello over TLS"

    let channel: any Channel
    let port: Int
    private let recorder: SeenRecorder

    /// What the server learnt about one client.
    struct SeenClient: Sendable, Hashable {
        var clientID: String
        /// From ``BrokerTLS/clientIdentity(in:)`` when CONNECT arrived.
        var identity: String?
    }

    var clients: [SeenClient] { recorder.seen.withLock { $0 } }

    private init(channel: any Channel, recorder: SeenRecorder) throws {
        self.channel = channel
        self.recorder = recorder
        guard let port = channel.localAddress?.port else { throw InteropFailure("the TLS test server has no port") }
        self.port = port
    }

    static func start(_ files: BrokerConfiguration.TLSFiles) async throws -> TLSTestServer {
        let context = try files.makeServerContext()
        let recorder = SeenRecorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try BrokerTLS.addServerHandlers(to: pipeline, context: context)
                    try pipeline.addHandlers([
                        ByteToMessageHandler(MQTTDecoder()), MessageToByteHandler(MQTTEncoder()), Responder(recorder: recorder),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return try TLSTestServer(channel: channel, recorder: recorder)
    }

    func stop() async {
        try? await channel.close()
    }

    /// Waits for the server to have seen `count` clients.
    func waitForClients(_ count: Int) async throws -> [SeenClient] {
        guard await interopWait(.seconds(15), { clients.count >= count }) else {
            throw InteropFailure("the TLS test server saw \(clients.count) of \(count) clients")
        }
        return clients
    }
}

/// Where the responders of all connections write.
private final class SeenRecorder: Sendable {
    let seen = Mutex<[TLSTestServer.SeenClient]>([])
}

private final class Responder: ChannelInboundHandler {
    typealias InboundIn = Packet
    typealias OutboundOut = Packet

    private let recorder: SeenRecorder

    init(recorder: SeenRecorder) {
        self.recorder = recorder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .connect(let connect):
            let client = TLSTestServer.SeenClient(
                clientID: connect.clientID, identity: BrokerTLS.clientIdentity(in: context.pipeline.syncOperations))
            recorder.seen.withLock { $0.append(client) }
            context.writeAndFlush(wrapOutboundOut(.connack(ConnAckPacket(returnCode: .accepted))), promise: nil)
        case .subscribe(let subscribe):
            let granted = subscribe.subscriptions.map { _ in SubscribeReturnCode(granted: .atMostOnce) }
            context.write(wrapOutboundOut(.suback(SubAckPacket(packetID: subscribe.packetID, returnCodes: granted))), promise: nil)
            if let filter = subscribe.subscriptions.first?.filter, !filter.contains("+"), !filter.contains("#") {
                let greeting = PublishPacket(topic: filter, payload: ByteBuffer(string: TLSTestServer.greeting))
                context.write(wrapOutboundOut(.publish(greeting)), promise: nil)
            }
            context.flush()
        case .pingreq:
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
