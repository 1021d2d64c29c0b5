import MQTT

/// Something that subscriptions deliver to: a client's session, or an
/// in-process subscriber of the daemon.
///
/// Only the broker's event loop touches subscribers.
protocol Subscriber: AnyObject {
    /// Hands over one message at the QoS it is delivered with, which is the
    /// lower of the published QoS and the granted QoS.
    func deliver(_ message: MQTTMessage, qos: QoS)

    /// Scratch space for `Router`: the routing pass that last matched this
    /// subscriber, and where its entry sits, so that overlapping subscriptions
    /// are merged without hashing.
    var routingMark: RoutingMark { get set }
}

struct RoutingMark {
    var pass: UInt64 = 0
    var slot: Int = 0
}
