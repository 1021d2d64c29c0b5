import MQTT
import NIOCore

/// Something that subscriptions deliver to: a client's session, or an
/// in-process subscriber of the daemon.
///
/// Only the broker's event loop touches subscribers.
protocol Subscriber: AnyObject {
    /// Hands over one message at the QoS it is delivered with, which is the
    /// lower of the published QoS and the granted QoS. `encodedQoS0` caches
    /// the message's QoS 0 PUBLISH bytes across the subscribers of one
    /// routing pass, so a fan-out encodes it once.
    func deliver(_ message: MQTTMessage, qos: QoS, encodedQoS0: inout EncodedPublish?)

    /// Whether it is behind, and who waits for it (`BrokerCore+Backpressure`).
    var flowControl: FlowControl { get set }

    /// Whether it has fallen behind: above its high-water mark.
    var isBehind: Bool { get }

    /// Whether it has caught up: at or below its low-water mark.
    var hasCaughtUp: Bool { get }

    /// The connection it reads from, for a client's session.
    var ownConnection: ConnectionHandler? { get }

    /// Who it is, for the log.
    var name: String { get }

    /// Scratch space for `Router`: the routing pass that last matched this
    /// subscriber, and where its entry sits, so that overlapping subscriptions
    /// are merged without hashing.
    var routingMark: RoutingMark { get set }
}

struct RoutingMark {
    var pass: UInt64 = 0
    var slot: Int = 0
}

extension Subscriber {
    /// Delivers one message outside a routing pass (retained messages).
    func deliver(_ message: MQTTMessage, qos: QoS) {
        var unshared: EncodedPublish?
        deliver(message, qos: qos, encodedQoS0: &unshared)
    }
}
