import Logging
import MQTT
import NIOCore

/// One client connection: its state machine from CONNECT to close, and the
/// translation of its packets into calls on the broker.
///
/// Lives on the broker's event loop, like all broker state.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Packet
    typealias OutboundOut = Packet

    private enum State {
        case awaitingConnect
        case connected(Session, will: Will?)
        case closed
    }

    /// Why a connection ends; all but a DISCONNECT and a broker shutdown
    /// publish the will.
    enum EndReason: CustomStringConvertible {
        case disconnected
        case connectionLost
        case protocolError(String)
        case keepAliveExpired
        case takenOver
        case shutdown

        var publishesWill: Bool {
            switch self {
            case .disconnected, .shutdown: false
            case .connectionLost, .protocolError, .keepAliveExpired, .takenOver: true
            }
        }

        var description: String {
            switch self {
            case .disconnected: "disconnected"
            case .connectionLost: "connection lost"
            case .protocolError(let reason): "protocol error: \(reason)"
            case .keepAliveExpired: "keepalive expired"
            case .takenOver: "taken over by a new connection with the same client id"
            case .shutdown: "broker shutting down"
            }
        }
    }

    private let core: BrokerCore
    private var state = State.awaitingConnect
    private var context: ChannelHandlerContext?
    private var connectTimeout: Scheduled<Void>?
    private var flushScheduled = false
    private(set) var isWritable = true
    private var logger: Logger
    let remoteAddress: String
    /// Which listener accepted the connection: its security applies.
    let listenerIndex: Int
    /// The common name of the client's verified TLS certificate, read at
    /// CONNECT (which always follows the handshake).
    private(set) var certificateIdentity: String?

    init(core: BrokerCore, remoteAddress: String, listenerIndex: Int) {
        self.core = core
        self.remoteAddress = remoteAddress
        self.listenerIndex = listenerIndex
        self.logger = core.logger
        logger[metadataKey: "peer"] = "\(remoteAddress)"
    }

    var clientID: String? {
        if case .connected(let session, _) = state { session.clientID } else { nil }
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        connectTimeout = context.eventLoop.scheduleTask(in: core.configuration.connectTimeout) {
            guard case .awaitingConnect = this.value.state else { return }
            this.value.close(.protocolError("no CONNECT within \(this.value.core.configuration.connectTimeout)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectTimeout?.cancel()
        end(.connectionLost)
        core.connectionClosed(self)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            close(.keepAliveExpired)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let protocolError = error as? MQTTProtocolError else {
            logger.debug("connection error: \(error)")
            close(.connectionLost)
            return
        }
        if case .unsupportedProtocolLevel = protocolError, case .awaitingConnect = state {
            send(.connack(ConnAckPacket(returnCode: .unacceptableProtocolVersion)))
        }
        close(.protocolError(protocolError.description))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        core.statistics.packetsReceived += 1
        switch state {
        case .awaitingConnect:
            guard case .connect(let connect) = packet else {
                close(.protocolError("first packet is \(packet.type), not CONNECT"))
                return
            }
            handleConnect(connect)
        case .connected(let session, _):
            handle(packet, in: session)
        case .closed:
            break
        }
    }

    // MARK: Packets

    private func handleConnect(_ connect: ConnectPacket) {
        connectTimeout?.cancel()
        if let context { certificateIdentity = BrokerTLS.clientIdentity(in: context.pipeline.syncOperations) }
        let (connack, session) = core.connect(connect, from: self)
        send(.connack(connack))
        guard let session else {
            close(.protocolError("refused client id \"\(connect.clientID)\": \(connack.returnCode)"))
            return
        }
        state = .connected(session, will: connect.will)
        logger[metadataKey: "client"] = "\(session.clientID)"
        logger.info("""
            client connected (\(connect.protocolVersion), \(connect.cleanSession ? "clean" : "persistent") session, \
            keepalive \(connect.keepAlive) s)
            """)
        if connect.keepAlive > 0, let context {
            // §3.1.2.10: the server closes after one and a half keepalive periods of silence.
            let timeout = TimeAmount.milliseconds(Int64(connect.keepAlive) * 1500)
            try? context.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: timeout), position: .first)
        }
        session.attach(self)
    }

    private func handle(_ packet: Packet, in session: Session) {
        switch packet {
        case .publish(let publish):
            handlePublish(publish, in: session)
        case .puback(let ack):
            if session.outgoing.acknowledge(ack.packetID) { session.sendQueued() }
        case .pubrec(let ack):
            _ = session.outgoing.received(ack.packetID)
            send(.pubrel(ack))
        case .pubrel(let ack):
            session.awaitingRelease.remove(ack.packetID)
            send(.pubcomp(ack))
        case .pubcomp(let ack):
            if session.outgoing.complete(ack.packetID) { session.sendQueued() }
        case .subscribe(let subscribe):
            let codes = core.subscribe(session, to: subscribe.subscriptions)
            send(.suback(SubAckPacket(packetID: subscribe.packetID, returnCodes: codes)))
            core.deliverRetained(to: session, for: subscribe.subscriptions, granted: codes)
        case .unsubscribe(let unsubscribe):
            core.unsubscribe(session, from: unsubscribe.filters)
            send(.unsuback(AckPacket(packetID: unsubscribe.packetID)))
        case .pingreq:
            send(.pingresp)
        case .disconnect:
            close(.disconnected)
        case .connect:
            close(.protocolError("second CONNECT"))
        case .connack, .suback, .unsuback, .pingresp:
            close(.protocolError("\(packet.type) is not sent by clients"))
        }
    }

    private func handlePublish(_ publish: PublishPacket, in session: Session) {
        core.statistics.publishReceived += 1
        let message = MQTTMessage(topic: publish.topic, payload: publish.payload, qos: publish.qos, retain: publish.retain)
        // `$SYS/...` is the broker's to write; a publish the ACL denies is
        // acknowledged and dropped, as Mosquitto does.
        let routed = !publish.topic.hasPrefix("$SYS/") && core.mayPublish(publish.topic, from: session)
        switch publish.qos {
        case .atMostOnce:
            if routed { core.publish(message) }
        case .atLeastOnce:
            if routed { core.publish(message) }
            send(.puback(AckPacket(packetID: publish.packetID)))
        case .exactlyOnce:
            // Delivered on first receipt; a resend before PUBREL is only acknowledged again.
            if session.awaitingRelease.insert(publish.packetID).inserted, routed {
                core.publish(message)
            }
            send(.pubrec(AckPacket(packetID: publish.packetID)))
        }
    }

    // MARK: Output and ending

    /// Writes a packet; the flush waits for the end of the event-loop tick so
    /// that a burst leaves in one system call.
    func send(_ packet: Packet) {
        guard let context else { return }
        core.statistics.packetsSent += 1
        if case .publish = packet { core.statistics.publishSent += 1 }
        context.write(wrapOutboundOut(packet), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            this.value.flushScheduled = false
            this.value.context?.flush()
        }
    }

    /// Ends the session side of the connection and closes the socket.
    func close(_ reason: EndReason) {
        end(reason)
        guard let context else { return }
        flushScheduled = false
        context.flush()
        context.close(promise: nil)
    }

    /// The one transition out of `.connected`: detaches the session and
    /// publishes the will when the reason calls for it.
    private func end(_ reason: EndReason) {
        let previous = state
        state = .closed
        switch previous {
        case .closed:
            return
        case .awaitingConnect:
            if case .protocolError = reason { logger.notice("closing: \(reason)") }
        case .connected(let session, let will):
            switch reason {
            case .disconnected, .shutdown: logger.info("client \(reason)")
            default: logger.notice("client \(reason)")
            }
            core.sessionEnded(session, connection: self, will: reason.publishesWill ? will : nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }
}
