import MQTT
import NIOCore

/// An in-process subscriber: the daemon reading the broker without a socket.
/// Its handler runs on the broker's event loop and must return quickly.
final class LocalSubscriber: Subscriber {
    private let handler: @Sendable (MQTTMessage) -> Void
    var filters: Set<SubscriptionFilter> = []
    var routingMark = RoutingMark()
    var flowControl = FlowControl()
    /// Set by the daemon while its input queue is full.
    var isBehind = false
    var hasCaughtUp: Bool { !isBehind }
    var ownConnection: ConnectionHandler? { nil }
    var name: String { "the in-process subscriber" }
    var canTakeSharedMessage: Bool { !isBehind }

    init(handler: @escaping @Sendable (MQTTMessage) -> Void) {
        self.handler = handler
    }

    func deliver(_ message: BrokerMessage, as delivery: Delivery, encoded: inout SharedEncoding) {
        var message = message.message
        message.qos = delivery.qos
        message.retain = delivery.retain
        handler(message)
    }
}
