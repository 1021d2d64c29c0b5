import Logging
import MQTT
import NIOCore
import NIOPosix
import NIOSSL

/// The owner of all of a client's state: the connection's lifecycle, what
/// outlives a connection (inflight publishes, packet identifiers, QoS 2
/// receipts, local subscriptions), and the events about them.
///
/// It lives on one event loop, which is also the loop of every channel it
/// opens: ``MQTTClient`` reaches it through a `NIOLoopBoundBox`, and the
/// channel handlers call it directly. One owner on one thread keeps the order
/// of packets without locks, tasks or hops.
final class ClientSession {
    let configuration: MQTTClientConfiguration
    /// Made once from the TLS files; each connection gets a handler of its own.
    let tlsContext: NIOSSLContext?
    let clientID: String
    let eventLoop: any EventLoop
    let logger: Logger

    var state: ConnectionState = .idle
    var packetIDs = PacketIDAllocator()
    var outbound: OutboundPublishes
    var requests = BrokerRequests()
    var subscriptions = SubscriptionRegistry()
    /// QoS 2 messages answered with PUBREC and awaiting PUBREL: a resend of
    /// the PUBLISH with one of these identifiers is not delivered again.
    var receipts = ExactlyOnceReceipts()
    var events = EventBroadcaster()
    /// MQTT 5: the connection's topic aliases, both ways.
    var aliases = TopicAliases(inboundMaximum: 0, outboundMaximum: 0)
    /// MQTT 5: the largest packet the broker takes (CONNACK); nil for no limit but the protocol's.
    var brokerMaximumPacketSize: Int?
    /// Whether a connection of this client was accepted already: an MQTT 5
    /// session that outlives its connections is resumed from then on.
    private var hasConnected = false
    /// Clean Start of the CONNECT in flight: a session cannot be present after it.
    private var sentCleanStart = true
    /// Whether a flush of the connection is already queued on the event loop.
    var flushScheduled = false
    private var lastConnectionID = 0

    /// How long `disconnect()` waits for DISCONNECT to be written before it
    /// closes the connection anyway.
    static let disconnectGracePeriod = TimeAmount.seconds(2)

    init(configuration: MQTTClientConfiguration, tlsContext: NIOSSLContext?, clientID: String, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.clientID = clientID
        self.eventLoop = eventLoop
        var logger = logger
        logger[metadataKey: "mqtt.client-id"] = "\(clientID)"
        self.logger = logger
        self.outbound = OutboundPublishes(
            window: configuration.maximumInflightMessages, queueLimit: configuration.maximumQueuedMessages)
    }

    // MARK: Connecting

    func connect(promise: EventLoopPromise<MQTTClient.ConnectResult>) {
        switch state {
        case .idle:
            startAttempt(waiter: promise, reconnectAttempt: 0)
            promise.futureResult.assumeIsolated().whenFailure { [self] error in
                // The caller was cancelled: give the attempt up.
                guard error is CancellationError, case .connecting(let attempt) = state, attempt.waiter == promise else {
                    return
                }
                disconnect(promise: nil)
            }
        case .connecting, .connected, .waitingToReconnect, .disconnecting:
            promise.fail(MQTTClientError.alreadyConnected)
        }
    }

    private func startAttempt(waiter: EventLoopPromise<MQTTClient.ConnectResult>?, reconnectAttempt: Int) {
        lastConnectionID += 1
        let connectionID = lastConnectionID
        let (host, port, timeout) = (configuration.host, configuration.port, configuration.connectTimeout)
        let deadline = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            attemptFailed(connectionID, .connectTimeout(host: host, port: port, timeout: timeout))
        }
        state = .connecting(ConnectAttempt(
            connectionID: connectionID, channel: nil, deadline: deadline, waiter: waiter,
            reconnectAttempt: reconnectAttempt))
        logger.debug("connecting", metadata: ["mqtt.broker": "\(host):\(port)", "mqtt.attempt": "\(reconnectAttempt)"])

        let session = NIOLoopBound(self, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try session.value.configurePipeline(of: channel, connectionID: connectionID)
                }
            }
            .connect(host: host, port: port)
            .assumeIsolated()
            .whenFailure { [self] error in
                // Success shows as the connection handler's channelActive.
                if case ChannelError.connectTimeout = error {
                    attemptFailed(connectionID, .connectTimeout(host: host, port: port, timeout: timeout))
                } else {
                    attemptFailed(connectionID, .unreachable(host: host, port: port, reason: Self.describe(error)))
                }
            }
    }

    private func configurePipeline(of channel: any Channel, connectionID: Int) throws {
        let pipeline = channel.pipeline.syncOperations
        if let tlsContext, let tls = configuration.tls {
            // Writes wait in the handler until the handshake is done, CONNECT included.
            try pipeline.addHandler(
                NIOSSLClientHandler(context: tlsContext, serverHostname: tls.serverHostname(connectingTo: configuration.host)))
        }
        let version = configuration.protocolVersion
        try pipeline.addHandler(ByteToMessageHandler(MQTTDecoder(maximumPacketSize: configuration.maximumPacketSize, version: version)))
        try pipeline.addHandler(MessageToByteHandler(MQTTEncoder(version: version)))
        // At MQTT 5 a client without keepalive still has the handler: the broker may impose one.
        if configuration.keepAliveSeconds > 0 || version == .v5 {
            let interval = configuration.keepAliveSeconds > 0 ? TimeAmount.seconds(Int64(configuration.keepAliveSeconds)) : nil
            try pipeline.addHandler(KeepAliveHandler(interval: interval, pingTimeout: configuration.pingTimeout.map { TimeAmount($0) }))
        }
        try pipeline.addHandler(ConnectionHandler(session: self, connectionID: connectionID))
    }

    /// Called by the connection handler once TCP is connected.
    func connectionActive(_ connectionID: Int, channel: any Channel) {
        guard case .connecting(var attempt) = state, attempt.connectionID == connectionID else {
            // The attempt was given up (deadline, disconnect()) while TCP connected.
            channel.close(promise: nil)
            return
        }
        attempt.channel = channel
        state = .connecting(attempt)
        let resuming = hasConnected && configuration.protocolVersion == .v5 && configuration.sessionExpiryInterval > 0
        let connect = configuration.connectPacket(clientID: clientID, resuming: resuming)
        sentCleanStart = connect.cleanSession
        channel.writeAndFlush(Packet.connect(connect), promise: nil)
    }

    func connackReceived(_ connack: ConnAckPacket, on channel: any Channel, for attempt: ConnectAttempt) {
        guard connack.returnCode == .accepted else {
            attemptFailed(attempt.connectionID, .connectionRefused(connack.returnCode))
            return
        }
        attempt.deadline.cancel()
        hasConnected = true
        adopt(limitsOf: connack)
        // §3.2.2.2: a clean session is never present, whatever the broker says.
        let sessionPresent = connack.sessionPresent && !sentCleanStart
        state = .connected(EstablishedConnection(
            connectionID: attempt.connectionID, channel: channel, sessionPresent: sessionPresent))
        logger.info("connected", metadata: [
            "mqtt.broker": "\(configuration.host):\(configuration.port)", "mqtt.session-present": "\(sessionPresent)",
        ])
        resumeSession(on: channel, sessionPresent: sessionPresent)
        attempt.waiter?.succeed(MQTTClient.ConnectResult(sessionPresent: sessionPresent))
        events.send(.connected(sessionPresent: sessionPresent))
    }

    /// MQTT 5: what the broker's CONNACK says this connection may do: its
    /// Receive Maximum narrows the window, its Topic Alias Maximum bounds our
    /// aliases, its Maximum Packet Size our publishes.
    private func adopt(limitsOf connack: ConnAckPacket) {
        guard configuration.protocolVersion == .v5 else { return }
        let properties = connack.properties
        outbound.limitWindow(toBrokerMaximum: properties.receiveMaximum.map(Int.init))
        aliases = TopicAliases(
            inboundMaximum: Int(configuration.topicAliasMaximum), outboundMaximum: Int(properties.topicAliasMaximum ?? 0))
        brokerMaximumPacketSize = properties.maximumPacketSize.map(Int.init)
    }

    private func attemptFailed(_ connectionID: Int, _ error: MQTTClientError) {
        guard case .connecting(let attempt) = state, attempt.connectionID == connectionID else { return }
        attempt.deadline.cancel()
        // The state moves on before the channel closes: closing reports back here.
        if let waiter = attempt.waiter {
            logger.debug("connect failed", metadata: ["error": "\(error)"])
            stop(reason: error, event: nil)
            waiter.fail(error)
        } else {
            logger.info("reconnect attempt failed", metadata: [
                "mqtt.attempt": "\(attempt.reconnectAttempt)", "error": "\(error)",
            ])
            scheduleReconnect(attempt: attempt.reconnectAttempt + 1)
        }
        attempt.channel?.close(promise: nil)
    }

    // MARK: Losing and ending connections

    /// Called by the connection handler when a channel closes, with the first
    /// error seen on it.
    func connectionClosed(_ connectionID: Int, reason: MQTTClientError?) {
        switch state {
        case .connecting(let attempt) where attempt.connectionID == connectionID:
            attemptFailed(connectionID, reason ?? .connectionLost(reason: "the broker closed the connection before CONNACK"))
        case .connected(let connection) where connection.connectionID == connectionID:
            connectionLost(reason ?? .connectionLost(reason: "the broker closed the connection"))
        case .disconnecting(let connection, let waiters) where connection.connectionID == connectionID:
            logger.info("disconnected")
            stop(reason: .disconnected, event: .disconnected(nil))
            for waiter in waiters { waiter.succeed() }
        default:
            break  // A channel this session had already left behind.
        }
    }

    private func connectionLost(_ error: MQTTClientError) {
        requests.requeueSent(ids: &packetIDs)
        guard configuration.reconnect.isEnabled else {
            logger.warning("connection lost", metadata: ["error": "\(error)"])
            stop(reason: error, event: .disconnected(error))
            return
        }
        logger.warning("connection lost; reconnecting", metadata: ["error": "\(error)"])
        events.send(.disconnected(error))
        scheduleReconnect(attempt: 1)
    }

    private func scheduleReconnect(attempt: Int) {
        let delay = configuration.reconnect.delay(forAttempt: attempt)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { [self] in
            guard case .waitingToReconnect(let scheduled, _) = state, scheduled == attempt else { return }
            startAttempt(waiter: nil, reconnectAttempt: attempt)
        }
        state = .waitingToReconnect(attempt: attempt, timer: timer)
        events.send(.reconnecting(attempt: attempt, delay: delay))
    }

    func disconnect(promise: EventLoopPromise<Void>?) {
        switch state {
        case .idle:
            promise?.succeed()
        case .connecting(let attempt):
            attempt.deadline.cancel()
            stop(reason: .disconnected, event: .disconnected(nil))
            attempt.waiter?.fail(MQTTClientError.disconnected)
            attempt.channel?.close(promise: nil)
            promise?.succeed()
        case .waitingToReconnect(_, let timer):
            timer.cancel()
            stop(reason: .disconnected, event: .disconnected(nil))
            promise?.succeed()
        case .connected(let connection):
            state = .disconnecting(connection, waiters: promise.map { [$0] } ?? [])
            let channel = connection.channel
            // DISCONNECT tells the broker to discard the will (§3.14.4). A
            // broker that stopped reading cannot hold the close up for long.
            let deadline = eventLoop.scheduleTask(in: Self.disconnectGracePeriod) { channel.close(promise: nil) }
            channel.writeAndFlush(Packet.disconnect(DisconnectPacket())).whenComplete { _ in
                deadline.cancel()
                channel.close(promise: nil)
            }
        case .disconnecting(let connection, var waiters):
            if let promise { waiters.append(promise) }
            state = .disconnecting(connection, waiters: waiters)
        }
    }

    /// Closes the connection without DISCONNECT, as a crash or a network
    /// failure would, so that tests can see the will and the reconnect.
    func dropConnection() {
        switch state {
        case .connected(let connection):
            connection.channel.pipeline.fireErrorCaught(MQTTClientError.connectionLost(reason: "dropped on request"))
        case .connecting(let attempt):
            attempt.channel?.pipeline.fireErrorCaught(MQTTClientError.connectionLost(reason: "dropped on request"))
        case .idle, .waitingToReconnect, .disconnecting:
            break
        }
    }

    /// The `MQTTClient` is gone: end the connection and every stream.
    func clientReleased() {
        disconnect(promise: nil)
        subscriptions.removeAll()
        events.finishAll()
    }

    /// Goes idle: fails what waits for a connection and ends what the broker
    /// forgets. A persistent session keeps its local subscriptions, QoS 2
    /// receipts and PUBRELs for the next `connect()`, as the broker keeps its side.
    private func stop(reason: MQTTClientError, event: MQTTClient.ConnectionEvent?) {
        state = .idle
        let persistent = configuration.keepsSession
        for promise in outbound.abandon(keepingReleases: persistent, ids: &packetIDs) {
            promise.fail(reason)
        }
        for request in requests.abandon(ids: &packetIDs) {
            if case .subscribe(_, let subscription?, _) = request { subscriptions.remove(subscription) }
            request.fail(reason)
        }
        if !persistent {
            subscriptions.removeAll()
            receipts.removeAll()
        }
        if let event { events.send(event) }
    }

    /// Closes the connection because the broker broke the protocol; an
    /// MQTT 5 broker is told why first.
    func protocolViolation(on channel: any Channel, _ reason: String, code: MQTTReasonCode = .protocolError) {
        logger.error("protocol violation by the broker", metadata: ["reason": "\(reason)"])
        if configuration.protocolVersion == .v5 {
            var properties = Properties()
            properties.reasonString = reason
            channel.writeAndFlush(Packet.disconnect(DisconnectPacket(reasonCode: code, properties: properties)), promise: nil)
        }
        channel.pipeline.fireErrorCaught(MQTTClientError.protocolViolation(reason))
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error)
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        return String(describing: error)
    }
}
