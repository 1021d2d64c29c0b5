import MQTT
import NIOCore
import NIOPosix

/// A lean MQTT connection for the load generator. It writes PUBLISH packets
/// from a pre-encoded prefix as fast as the socket takes them, and counts
/// what arrives: our full client would measure itself, not the broker.
final class LoadConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<LoadHandler>

    /// Connects and completes CONNECT / CONNACK.
    static func open(
        host: String, port: Int, clientID: String, version: ProtocolVersion, loop: any EventLoop
    ) async throws -> LoadConnection {
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(MQTTDecoder(version: version)), LoadHandler(version: version),
                    ])
                }
            }
            .connect(host: host, port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: LoadHandler.self), eventLoop: channel.eventLoop)
        }.get()
        let connection = LoadConnection(channel: channel, handler: handler)
        try await connection.onLoop { handler, promise in
            handler.connect(clientID: clientID, promise: promise)
        }
        return connection
    }

    private init(channel: any Channel, handler: NIOLoopBound<LoadHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Subscribes; with `flows`, what arrives opens the publishers' windows.
    func subscribe(_ filter: String, qos: QoS, flows: NIOLoopBound<FlowTable>? = nil, receiverIndex: Int = 0) async throws {
        try await onLoop { handler, promise in
            handler.flows = flows?.value
            handler.receiverIndex = receiverIndex
            handler.subscribe(filter, qos: qos, promise: promise)
        }
    }

    /// Sends the job's messages as fast as the broker (and, with a window,
    /// the slowest receiver) takes them; returns when all are written (QoS 0)
    /// or acknowledged (QoS 1 and 2).
    func publish(_ job: PublishJob, window: NIOLoopBound<FlowWindow>? = nil) async throws {
        try await onLoop { handler, promise in handler.start(job, window: window?.value, promise: promise) }
    }

    /// What this connection received so far.
    func totals(expectedPerPublisher: [UInt32: Int]) async throws -> DeliveryTotals {
        let handler = self.handler
        return try await channel.eventLoop.submit { handler.value.counter.totals(expectedPerPublisher: expectedPerPublisher) }.get()
    }

    /// How many messages arrived so far, and when the last one did.
    func progress() async throws -> (received: Int, lastAt: UInt64) {
        let handler = self.handler
        return try await channel.eventLoop.submit { (handler.value.received, handler.value.lastReceivedAt) }.get()
    }

    func close() async {
        try? await channel.close()
    }

    private func onLoop(_ body: @escaping @Sendable (LoadHandler, EventLoopPromise<Void>) -> Void) async throws {
        let handler = self.handler
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute { body(handler.value, promise) }
        try await promise.futureResult.get()
    }
}

/// What a publisher sends.
struct PublishJob: Sendable {
    var topic: String
    var count: Int
    var qos: QoS
    var payloadSize: Int
    var publisher: UInt32
    /// QoS 1 and 2 messages awaiting the broker's acknowledgement at most.
    var inflight = 100
    /// Messages per second; nil sends as fast as the socket takes them.
    var rate: Int?
}

enum LoadError: Error, CustomStringConvertible {
    case refused(ConnectReturnCode)
    case subscriptionRefused
    case closed

    var description: String {
        switch self {
        case .refused(let code): "the broker refused the connection: \(code)"
        case .subscriptionRefused: "the broker refused a subscription"
        case .closed: "the connection closed"
        }
    }
}
