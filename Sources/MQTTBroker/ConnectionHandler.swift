import Logging
import MQTT
import NIOCore

/// One client connection: its state machine from CONNECT to close, and the
/// translation of its packets into calls on the broker.
///
/// Lives on the broker's event loop, like all broker state.
final class ConnectionHandler: ChannelInboundHandler {
    /// Bytes, decoded here by a `PacketReader` rather than a decoder handler
    /// of their own: the smallest pipeline an idle device can have.
    typealias InboundIn = ByteBuffer
    /// Packets are encoded here rather than by a `MessageToByteHandler`: one
    /// handler less per idle device, and a QoS 0 message fanned out to many
    /// subscribers is encoded once.
    typealias OutboundOut = ByteBuffer

    enum State {
        case awaitingConnect
        case connected(Session, will: Will?)
        case closed
    }

    let core: BrokerCore
    var state = State.awaitingConnect
    private var reader: PacketReader
    private var context: ChannelHandlerContext?
    /// When the connection will have been silent too long: CONNECT must
    /// come within `connect_timeout`, then some packet within 1.5 × keepalive
    /// (§3.1.2.10). One sweep of the broker checks every connection, so an
    /// idle device costs no timer of its own.
    var silenceDeadline: NIODeadline?
    /// 1.5 × keepalive, once connected with one.
    var silenceAllowance: TimeAmount?
    private var flushScheduled = false
    /// Subscribers behind that this connection feeds: while any, it is not read.
    private var hold = ReadHold()
    private(set) var isWritable = true
    let remoteAddress: String
    /// Which listener accepted the connection: its security applies.
    let listenerIndex: Int
    /// The client id once connected, still known while the connection ends.
    var clientIDForLogs: String?
    /// The protocol version the client's CONNECT named.
    var version = ProtocolVersion.v3_1_1
    /// What an MQTT 5 client said it can take, at CONNECT: how many QoS 1
    /// and 2 messages at once (Receive Maximum), and how large a packet.
    var clientReceiveMaximum: Int?
    var clientMaximumPacketSize: Int?
    /// The session expiry interval of the CONNECT: a DISCONNECT may not
    /// raise 0 (§3.14.2.2.2).
    var connectSessionExpiry: UInt32 = 0
    var aliases = TopicAliases(inboundMaximum: 0, outboundMaximum: 0)
    /// MQTT 5's Request Problem Information: reason strings on refusals
    /// (DISCONNECT carries one regardless).
    var sendsProblemInformation = true

    init(core: BrokerCore, remoteAddress: String, listenerIndex: Int) {
        self.core = core
        self.reader = PacketReader(maximumPacketSize: core.configuration.maximumPacketSize)
        self.remoteAddress = remoteAddress
        self.listenerIndex = listenerIndex
    }

    var clientID: String? { session?.clientID }

    var session: Session? {
        if case .connected(let session, _) = state { session } else { nil }
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        silenceDeadline = .now() + core.configuration.connectTimeout
        core.register(self)
    }

    /// The common name of the client's verified TLS certificate: parsed only
    /// when asked, at a CONNECT (always after the handshake) on a listener
    /// that takes it as the user name.
    func certificateIdentity() -> String? {
        context.flatMap { BrokerTLS.clientIdentity(in: $0.pipeline.syncOperations) }
    }

    /// Reads from the socket (`autoRead`) unless held back.
    private func updateReading() {
        try? context?.channel.syncOptions?.setOption(.autoRead, value: !hold.isHeld)
    }

    var isHeldBack: Bool { hold.isHeld }

    /// Stops processing this connection's packets, and reading its socket,
    /// while `subscriber` (which it feeds) is behind.
    func holdBack(by subscriber: ObjectIdentifier) {
        guard hold.hold(by: subscriber) else { return }
        core.statistics.heldBackConnections += 1
        updateReading()
    }

    /// Ends `subscriber`'s hold; the last one to let go resumes the connection.
    func release(by subscriber: ObjectIdentifier) {
        resume(after: hold.release(by: subscriber))
    }

    /// Ends every hold: the client has fallen behind itself, and must be read to catch up.
    func releaseAll() {
        resume(after: hold.release(by: nil))
    }

    private func resume(after held: TimeAmount?) {
        guard let held else { return }
        core.statistics.heldBackConnections -= 1
        // Silence we imposed is not the client's.
        postponeSilenceDeadline(by: held)
        guard let context else { return }
        // Later in this tick, after the flush already scheduled: the messages
        // whose acknowledgement let go of this connection leave first, and
        // their subscriber reads them while the broker works through what
        // this publisher had waiting. Handled at once, that backlog held
        // them back, and both sides waited on each other in turn.
        scheduleBacklog(on: context.eventLoop)
    }

    /// Packets of a released connection's backlog handled per event-loop
    /// task: a backlog can be four full reads (thousands of messages), and
    /// between slices the loop reads other sockets, among them the
    /// acknowledgements that keep the subscriber's window moving.
    private static let backlogSlice = 64

    /// Works through the packets that waited while the connection was held,
    /// a slice per task; its socket is read again once they are done.
    private func scheduleBacklog(on eventLoop: any EventLoop) {
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute {
            let handler = this.value
            guard handler.processPackets(limit: Self.backlogSlice) else {
                handler.scheduleBacklog(on: eventLoop)
                return
            }
            handler.updateReading()
        }
    }

    /// Allows `amount` more silence: time the broker was not reading.
    private func postponeSilenceDeadline(by amount: TimeAmount) {
        if let deadline = silenceDeadline { silenceDeadline = deadline + amount }
    }

    /// Called by the broker's sweep once `silenceDeadline` has passed.
    func silenceExpired() {
        if case .awaitingConnect = state {
            close(.protocolError("no CONNECT within \(core.configuration.connectTimeout)"))
        } else {
            close(.keepAliveExpired)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let silenceAllowance { silenceDeadline = .now() + silenceAllowance }
        // What this client's own packets called for (acknowledgements, the
        // messages its acknowledgements let into its window) leaves now,
        // not after every other connection's reads of this tick.
        if flushScheduled { context.flush() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        silenceDeadline = nil
        end(.connectionLost)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        log(.debug, "connection error: \(error)")
        close(.connectionLost)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        core.statistics.bytesReceived += bytes.readableBytes
        reader.append(bytes)
        processPackets()
    }

    /// Handles the packets read so far, until the connection closes or is
    /// held back, or `limit` packets were handled. Returns false when it
    /// stopped at the limit, with packets possibly left.
    @discardableResult
    private func processPackets(limit: Int = .max) -> Bool {
        guard !hold.isHeld else { return true }
        var handled = 0
        do {
            try reader.drain { packet in
                handle(packet)
                handled += 1
                if case .closed = state { return false }
                return !hold.isHeld && handled < limit
            }
        } catch let error as MQTTProtocolError {
            if case .unsupportedProtocolLevel = error, case .awaitingConnect = state {
                send(.connack(ConnAckPacket(returnCode: .unacceptableProtocolVersion)))
            }
            close(.protocolError(error.description, code: error.reasonCode))
        } catch {
            close(.protocolError("\(error)"))
        }
        if case .closed = state { return true }
        return hold.isHeld || handled < limit
    }

    private func handle(_ packet: Packet) {
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

    // MARK: Output and ending

    /// Encodes and writes a packet.
    func send(_ packet: Packet) {
        guard let context else { return }
        do {
            if case .publish(let publish) = packet {
                send(try EncodedPublish(publish, version: version))
                return
            }
            var buffer = context.channel.allocator.buffer(capacity: 64)
            try buffer.writeMQTTPacket(packet, version: version)
            count(bytes: buffer.readableBytes)
            write(buffer)
        } catch {
            // Only a message the broker accepted is ever sent; this is a bug, not bad input.
            log(.error, "could not encode \(packet.type): \(error)")
        }
    }

    /// Sends a PUBLISH, encoded once for all the subscribers of a QoS 0 fan-out.
    func send(_ publish: EncodedPublish) {
        core.statistics.publishSent += 1
        count(bytes: publish.byteCount)
        write(publish.head)
        if let payload = publish.sharedPayload { write(payload) }
    }

    private func count(bytes: Int) {
        core.statistics.packetsSent += 1
        core.statistics.bytesSent += bytes
    }

    /// Writes a packet; the flush waits for the end of the event-loop tick so
    /// that a burst leaves in one system call.
    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(buffer), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            this.value.flushScheduled = false
            this.value.context?.flush()
        }
    }

    /// Ends the session side of the connection and closes the socket. An
    /// MQTT 5 client is told why first, when the broker ends it.
    func close(_ reason: EndReason) {
        if case .connected = state, version == .v5, let code = reason.disconnectReasonCode {
            var properties = Properties()
            properties.reasonString = reason.description
            send(.disconnect(DisconnectPacket(reasonCode: code, properties: properties)))
        }
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
            switch reason {
            case .protocolError, .refused: log(.notice, "closing: \(reason)")
            default: break
            }
        case .connected(let session, let will):
            switch reason {
            case .disconnected, .shutdown: log(.info, "client \(reason)")
            default: log(.notice, "client \(reason)")
            }
            core.sessionEnded(session, connection: self, will: reason.publishesWill ? will : nil)
        }
    }

    /// Logs with the peer and client id, built only when the level is on:
    /// a logger with metadata per connection would cost every idle device
    /// a few hundred bytes.
    func log(_ level: Logger.Level, _ message: @autoclosure () -> Logger.Message) {
        let logger = core.logger
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = ["peer": "\(remoteAddress)"]
        if let clientIDForLogs { metadata["client"] = "\(clientIDForLogs)" }
        logger.log(level: level, message(), metadata: metadata)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end(.connectionLost)
        if hold.release(by: nil) != nil { core.statistics.heldBackConnections -= 1 }
        core.unregister(self)
        self.context = nil
    }
}
