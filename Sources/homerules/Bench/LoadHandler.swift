import MQTT
import NIOCore

/// The protocol side of `LoadConnection`, on its event loop.
final class LoadHandler: ChannelInboundHandler {
    typealias InboundIn = Packet
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    /// The protocol version of the connection.
    private let version: ProtocolVersion
    private var connected: EventLoopPromise<Void>?
    private var subscribed: EventLoopPromise<Void>?
    private var sending: Sending?
    private var nextPacketID: UInt16 = 0
    private var pumping = false
    /// Acknowledgements of what this read brought, written as one buffer at
    /// its end: the generator must not be what a fast broker waits for.
    private var pendingAcks: ByteBuffer?
    /// As a publisher: the end-to-end window, if the scenario uses one.
    private var flow: FlowWindow?
    private(set) var counter = DeliveryCounter()
    /// As a receiver: the windows of the publishers, and this receiver's place in them.
    var flows: FlowTable?
    var receiverIndex = 0
    private(set) var received = 0
    /// When the last message arrived (monotonic nanoseconds).
    private(set) var lastReceivedAt: UInt64 = 0

    /// A publish job under way.
    private struct Sending {
        var job: PublishJob
        /// Fixed header, remaining length and topic: the same for every message.
        var prefix: ByteBuffer
        var sent = 0
        var inflight = 0
        var done: EventLoopPromise<Void>
        /// Messages the rate allows now but not yet sent.
        var allowance = 0.0
        var ticker: RepeatedTask?
    }

    init(version: ProtocolVersion) {
        self.version = version
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func connect(clientID: String, promise: EventLoopPromise<Void>) {
        connected = promise
        send(.connect(ConnectPacket(protocolVersion: version, clientID: clientID, cleanSession: true, keepAlive: 600)))
    }

    func subscribe(_ filter: String, qos: QoS, promise: EventLoopPromise<Void>) {
        subscribed = promise
        send(.subscribe(SubscribePacket(packetID: 1, subscriptions: [.init(filter: filter, qos: qos)])))
    }

    func start(_ job: PublishJob, window: FlowWindow?, promise: EventLoopPromise<Void>) {
        flow = window
        window?.wake = { [unowned self] in self.pump() }
        var prefix = ByteBuffer()
        // MQTT 5 adds a property length (0: no properties) after the packet identifier.
        let propertyLength = version == .v5 ? 1 : 0
        let remaining = 2 + job.topic.utf8.count + (job.qos == .atMostOnce ? 0 : 2) + propertyLength
            + max(job.payloadSize, BenchPayload.headerSize)
        prefix.writeInteger(UInt8(0x30 | job.qos.rawValue << 1))
        prefix.writeRemainingLength(remaining)
        prefix.writeInteger(UInt16(job.topic.utf8.count))
        prefix.writeString(job.topic)
        sending = Sending(job: job, prefix: prefix, done: promise)
        if let rate = job.rate, let context {
            // A tick every millisecond releases the messages the rate allows.
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            sending?.ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in
                this.value.sending?.allowance += Double(rate) / 1000
                this.value.pump()
            }
        } else {
            pump()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        pump()
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .connack(let connack):
            if connack.returnCode == .accepted { connected?.succeed() } else { connected?.fail(LoadError.refused(connack.returnCode)) }
            connected = nil
        case .suback(let suback):
            if suback.returnCodes.contains(.failure) { subscribed?.fail(LoadError.subscriptionRefused) } else { subscribed?.succeed() }
            subscribed = nil
        case .publish(let publish):
            let now = BenchPayload.now()
            received += 1
            lastReceivedAt = now
            if let payload = BenchPayload(reading: publish.payload) {
                counter.record(payload, receivedAt: now)
                flows?.windows[payload.publisher]?.received(by: receiverIndex)
            }
            switch publish.qos {
            case .atMostOnce: break
            case .atLeastOnce: send(.puback(AckPacket(packetID: publish.packetID)))
            case .exactlyOnce: send(.pubrec(AckPacket(packetID: publish.packetID)))
            }
        case .pubrel(let ack):
            send(.pubcomp(ack))
        case .puback, .pubcomp:
            acknowledged()
        case .pubrec(let ack):
            send(.pubrel(ack))
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let acks = pendingAcks.take() { context.write(wrapOutboundOut(acks), promise: nil) }
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connected?.fail(LoadError.closed)
        subscribed?.fail(LoadError.closed)
        sending?.ticker?.cancel()
        sending?.done.fail(LoadError.closed)
        connected = nil
        subscribed = nil
        sending = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func acknowledged() {
        guard sending != nil else { return }
        sending?.inflight -= 1
        pump()
    }

    /// Writes messages while the socket takes them, the window allows, and
    /// (at a fixed rate) the clock does. Not reentrant: a flush that drains
    /// the socket reports writability from inside this loop.
    private func pump() {
        guard !pumping, let context, let job = sending?.job else { return }
        pumping = true
        defer { pumping = false }
        let messageSize = (sending?.prefix.readableBytes ?? 0) + 3 + job.payloadSize
        var wrote = true
        while wrote {
            wrote = false
            // Up to a batch of messages per write: writability is checked between batches.
            // A batch's buffer is made for its first message: most calls (one per acknowledgement) send one or none.
            var buffer = ByteBuffer()
            var batched = 0
            while let state = sending, state.sent < job.count, context.channel.isWritable,
                  job.qos == .atMostOnce || state.inflight < job.inflight,
                  flow?.mayPublish(sent: state.sent) ?? true,
                  job.rate == nil || state.allowance >= 1 {
                if batched == 0 { buffer = context.channel.allocator.buffer(capacity: messageSize * Self.batch) }
                buffer.writeImmutableBuffer(state.prefix)
                if job.qos != .atMostOnce {
                    nextPacketID = nextPacketID == UInt16.max ? 1 : nextPacketID + 1
                    buffer.writeInteger(nextPacketID)
                    sending?.inflight += 1
                }
                if version == .v5 { buffer.writeInteger(UInt8(0)) }
                BenchPayload(publisher: job.publisher, sequence: UInt64(state.sent), sentAt: BenchPayload.now())
                    .write(into: &buffer, size: job.payloadSize)
                sending?.sent += 1
                if job.rate != nil { sending?.allowance -= 1 }
                wrote = true
                batched += 1
                if batched == Self.batch {
                    context.write(wrapOutboundOut(buffer), promise: nil)
                    batched = 0
                }
            }
            if batched > 0 { context.write(wrapOutboundOut(buffer), promise: nil) }
            context.flush()
        }
        if let state = sending, state.sent == job.count, state.inflight == 0 {
            state.ticker?.cancel()
            flow?.wake = nil
            sending = nil
            state.done.succeed()
        }
    }

    /// Messages written per buffer.
    private static let batch = 64

    /// Writes a control packet. Acknowledgements of received messages wait
    /// for `channelReadComplete`, which writes a whole read's worth at once.
    private func send(_ packet: Packet) {
        guard let context else { return }
        switch packet {
        case .puback, .pubrec, .pubcomp:
            if pendingAcks == nil { pendingAcks = context.channel.allocator.buffer(capacity: 1024) }
            try? pendingAcks?.writeMQTTPacket(packet, version: version)
        default:
            var buffer = context.channel.allocator.buffer(capacity: 16)
            try? buffer.writeMQTTPacket(packet, version: version)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }
}
