import MQTT
import NIOCore

/// An in-process subscriber: the daemon reading the broker without a socket.
/// Its handler runs on the broker's event loop and must return quickly.
final class LocalSubscriber: Subscriber {
    private let handler: @Sendable (MQTTMessage) -> Void
    var filters: Set<String> = []
    var routingMark = RoutingMark()

    init(handler: @escaping @Sendable (MQTTMessage) -> Void) {
        self.handler = handler
    }

    func deliver(_ message: MQTTMessage, qos: QoS, encodedQoS0: inout EncodedPublish?) {
        var message = message
        message.qos = qos
        handler(message)
    }
}
