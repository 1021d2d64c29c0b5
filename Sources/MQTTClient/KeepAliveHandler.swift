import MQTT
import NIOCore

/// Keeps an idle connection alive and notices a dead one (MQTT 3.1.1 §3.1.2.10).
///
/// It sends PINGREQ when nothing was sent for the keepalive interval, as the
/// specification requires, and also when nothing was received for that long:
/// a client that only publishes QoS 0 would otherwise never learn that the
/// broker is gone. When no packet at all arrives within the ping timeout after
/// a PINGREQ, it raises ``MQTTClientError/keepAliveTimeout`` down the
/// pipeline, where the connection handler closes the channel. PINGRESP ends here.
/// An MQTT 5 broker's Server Keep Alive (in CONNACK) replaces the interval.
final class KeepAliveHandler: ChannelDuplexHandler {
    typealias InboundIn = Packet
    typealias InboundOut = Packet
    typealias OutboundIn = Packet
    typealias OutboundOut = Packet

    /// Nil while keepalive is off: an MQTT 5 broker's Server Keep Alive may turn it on.
    private var interval: TimeAmount?
    private var pingTimeout: TimeAmount
    private var lastSent = NIODeadline.now()
    private var lastReceived = NIODeadline.now()
    /// When the unanswered PINGREQ was sent; nil when none is outstanding.
    private var pingSentAt: NIODeadline?
    private var timer: Scheduled<Void>?

    /// - Parameters:
    ///   - interval: The keepalive interval, positive; nil for none until
    ///     the broker's CONNACK imposes one.
    ///   - pingTimeout: How long to wait for any packet after a PINGREQ;
    ///     nil for one interval.
    init(interval: TimeAmount?, pingTimeout: TimeAmount?) {
        precondition((interval ?? .seconds(1)) > .zero && (pingTimeout ?? .seconds(1)) > .zero)
        self.interval = interval
        self.pingTimeout = pingTimeout ?? interval ?? .seconds(Int64(UInt16.max))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastReceived = .now()
        if pingSentAt != nil {
            pingSentAt = nil
            // The check was set for the ping's timeout, which may be longer
            // than the interval: the next ping is due at the interval.
            timer?.cancel()
            if let interval { schedule(context: context, at: min(lastSent, lastReceived) + interval) }
        }
        switch unwrapInboundIn(data) {
        case .pingresp:
            return
        case .connack(let connack):
            if let seconds = connack.properties.serverKeepAlive { adopt(serverKeepAlive: seconds, context: context) }
        default:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastSent = .now()
        context.write(data, promise: promise)
    }

    /// The broker imposes its keepalive (§3.2.2.3.14): pings follow it, and
    /// a ping timeout longer than it shrinks to it. 0 turns keepalive off.
    private func adopt(serverKeepAlive seconds: UInt16, context: ChannelHandlerContext) {
        stop()
        guard seconds > 0 else { return }
        let imposed = TimeAmount.seconds(Int64(seconds))
        interval = imposed
        pingTimeout = min(pingTimeout, imposed)
        schedule(context: context, at: min(lastSent, lastReceived) + imposed)
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        lastSent = .now()
        lastReceived = .now()
        if let interval { schedule(context: context, at: lastSent + interval) }
    }

    private func stop() {
        timer?.cancel()
        timer = nil
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check(context: context)
        }
    }

    private func check(context: ChannelHandlerContext) {
        guard let interval else { return }
        let now = NIODeadline.now()
        if let pingSentAt {
            if now - pingSentAt >= pingTimeout {
                timer = nil
                context.fireErrorCaught(MQTTClientError.keepAliveTimeout)
                return
            }
        } else if now - lastSent >= interval || now - lastReceived >= interval {
            pingSentAt = now
            lastSent = now
            context.writeAndFlush(wrapOutboundOut(.pingreq), promise: nil)
        }
        let next = pingSentAt.map { $0 + pingTimeout } ?? min(lastSent, lastReceived) + interval
        schedule(context: context, at: max(next, now + .milliseconds(1)))
    }
}
