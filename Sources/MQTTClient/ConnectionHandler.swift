import MQTT
import NIOCore

/// The last handler of a connection's pipeline: it hands every packet and the
/// end of the connection to the ``ClientSession`` that owns the client's state.
///
/// Both live on the channel's event loop, so the handler calls the session
/// directly, in the order the packets arrived; no task or hop sits between a
/// packet and its subscribers.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Packet

    private let session: ClientSession
    private let connectionID: Int
    /// The first error seen, reported to the session when the channel closes.
    private var closeReason: MQTTClientError?

    init(session: ClientSession, connectionID: Int) {
        self.session = session
        self.connectionID = connectionID
    }

    func channelActive(context: ChannelHandlerContext) {
        session.connectionActive(connectionID, channel: context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.received(unwrapInboundIn(data), on: connectionID, channel: context.channel)
    }

    /// Acknowledgements for a burst of packets are written without flushing;
    /// one flush here sends them together.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeReason == nil { closeReason = Self.reason(for: error) }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.connectionClosed(connectionID, reason: closeReason)
        context.fireChannelInactive()
    }

    private static func reason(for error: any Error) -> MQTTClientError {
        switch error {
        case let error as MQTTClientError: error
        case let error as MQTTProtocolError: .protocolViolation(error.description)
        default: TLSFailure.reason(for: error).map(MQTTClientError.tlsFailed) ?? .connectionLost(reason: String(describing: error))
        }
    }
}
