import MQTT
import NIOCore

/// Something that subscriptions deliver to: a client's session, or an
/// in-process subscriber of the daemon.
///
/// Only the broker's event loop touches subscribers.
protocol Subscriber: AnyObject {
    /// Hands over one message as `delivery` says (QoS, RETAIN flag,
    /// subscription identifiers). `encoded` caches the message's QoS 0
    /// PUBLISH bytes across the subscribers of one routing pass, so a
    /// fan-out encodes it once per protocol version.
    func deliver(_ message: BrokerMessage, as delivery: Delivery, encoded: inout SharedEncoding)

    /// Whether it is a good choice for a message of a shared subscription
    /// now: connected, with room in its window.
    var canTakeSharedMessage: Bool { get }

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
    func deliver(_ message: BrokerMessage, as delivery: Delivery) {
        var unshared = SharedEncoding()
        deliver(message, as: delivery, encoded: &unshared)
    }
}
