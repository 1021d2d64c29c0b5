import MQTT
import NIOCore

/// An in-process subscriber: the daemon reading the broker without a socket.
/// Its handler runs on the broker's event loop and must return quickly.
final class LocalSubscriber: Subscriber {
    private let handler: @Sendable (MQTTMessage) -> Void
    var filters: Set<String> = []
    var routingMark = RoutingMark()
    var flowControl = FlowControl()
    /// Set by the daemon while its input queue is full.
    var isBehind = false
    var hasCaughtUp: Bool { !isBehind }
    var ownConnection: ConnectionHandler? { nil }
    var name: String { "the in-process subscriber" }

    init(handler: @escaping @Sendable (MQTTMessage) -> Void) {
        self.handler = handler
    }

    func deliver(_ message: MQTTMessage, qos: QoS, encodedQoS0: inout EncodedPublish?) {
        var message = message
        message.qos = qos
        handler(message)
    }
}
