import MQTT
import NIOCore

/// What the broker keeps for one client id: its subscriptions, its message
/// flows, and the connection it is on (if any).
///
/// A clean session lives as long as its connection; a persistent one outlives
/// it, queueing QoS 1 and 2 messages until the client returns.
final class Session: Subscriber {
    let clientID: String
    var isPersistent: Bool
    /// The live connection, or nil while a persistent client is away.
    private(set) var connection: ConnectionHandler?
    /// Filter → granted QoS.
    var subscriptions: [String: QoS] = [:]
    var outgoing: OutgoingMessages
    /// Incoming QoS 2 packet ids delivered onward and awaiting PUBREL: a
    /// resent PUBLISH with one of these ids is not delivered twice.
    var awaitingRelease: Set<UInt16> = []
    var routingMark = RoutingMark()
    var flowControl = FlowControl()
    /// Who the client is, for the ACL: set at each CONNECT.
    var identity: ClientIdentity
    /// Its rules in the ACL of the listener it last connected through, if
    /// that listener has an ACL.
    var permissions: ClientPermissions?
    var listenerIndex = 0
    /// Since when a persistent session's client is away, for its expiry.
    var awaySince: NIODeadline?
    private let statistics: BrokerStatistics

    init(clientID: String, isPersistent: Bool, limits: BrokerConfiguration, statistics: BrokerStatistics) {
        self.clientID = clientID
        self.identity = ClientIdentity(clientID: clientID, username: nil)
        self.isPersistent = isPersistent
        self.outgoing = OutgoingMessages(
            maximumInflight: limits.maximumInflightMessages, maximumInflightBytes: limits.maximumInflightBytes,
            maximumQueued: limits.maximumQueuedMessages,
            maximumQueuedBytes: limits.maximumQueuedBytes)
        self.statistics = statistics
    }

    func deliver(_ message: MQTTMessage, qos: QoS, encodedQoS0: inout EncodedPublish?) {
        if let permissions, !permissions.mayReceive(topic: message.topic) { return }
        var message = message
        message.qos = qos
        guard qos != .atMostOnce else {
            // QoS 0 is not queued for absent clients (Mosquitto's default) and
            // is dropped for clients that do not keep up.
            guard let connection else { return }
            guard connection.isWritable else {
                statistics.droppedMessages += 1
                return
            }
            if encodedQoS0 == nil {
                // Every topic is checked before it is routed: this fails only on a bug, and sends nothing then.
                guard let encoded = try? EncodedPublish(PublishPacket(topic: message.topic, payload: message.payload, retain: message.retain))
                else {
                    statistics.droppedMessages += 1
                    return
                }
                encodedQoS0 = encoded
            }
            connection.send(encodedQoS0!)
            return
        }
        switch outgoing.admit(message, windowOpen: connection != nil) {
        case .send(let entry): send(entry, dup: false)
        case .queued: break
        case .dropped: statistics.droppedMessages += 1
        }
    }

    /// Binds the session to a new connection and resends what was inflight,
    /// in order and with DUP set, then what was queued.
    func attach(_ connection: ConnectionHandler) {
        self.connection = connection
        for entry in outgoing.inflightInOrder { send(entry, dup: true) }
        sendQueued()
    }

    func detach() {
        connection = nil
    }

    // An absent client's queue holds nobody back: it is bounded and drops.
    var isBehind: Bool { connection != nil && outgoing.isAboveHighWater }
    var hasCaughtUp: Bool { outgoing.isAtOrBelowLowWater }
    var ownConnection: ConnectionHandler? { connection }
    var name: String { "client \"\(clientID)\"" }

    /// Lets queued messages into the window freed by an acknowledgement.
    func sendQueued() {
        guard connection != nil else { return }
        for entry in outgoing.refill() { send(entry, dup: false) }
    }

    private func send(_ entry: OutgoingMessages.Entry, dup: Bool) {
        guard let connection else { return }
        switch entry.stage {
        case .published:
            let message = entry.message
            connection.send(.publish(PublishPacket(
                topic: message.topic, payload: message.payload, qos: message.qos,
                retain: message.retain, dup: dup, packetID: entry.packetID)))
        case .released:
            connection.send(.pubrel(AckPacket(packetID: entry.packetID)))
        }
    }
}
