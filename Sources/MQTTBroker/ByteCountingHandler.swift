import NIOCore

/// Counts the bytes a connection reads and writes, for `$SYS/broker/bytes/...`.
final class ByteCountingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let statistics: BrokerStatistics

    init(statistics: BrokerStatistics) {
        self.statistics = statistics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        statistics.bytesReceived += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        statistics.bytesSent += unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }
}
