import MQTT
import NIOCore

/// What the broker keeps for one client id: its subscriptions, its message
/// flows, and the connection it is on (if any).
///
/// A session with an expiry interval of 0 lives as long as its connection;
/// a longer one outlives it, queueing QoS 1 and 2 messages until the client
/// returns or the session expires (`SessionExpiry`).
final class Session: Subscriber {
    let clientID: String
    /// Seconds the session outlives its connection: MQTT 5's session expiry
    /// interval; for 3.1.1, 0 for a clean session and `UInt32.max` (for
    /// ever) for a persistent one. A DISCONNECT may change it.
    var expiryInterval: UInt32
    /// The live connection, or nil while the client is away.
    private(set) var connection: ConnectionHandler?
    /// Every subscription, by the filter the client wrote.
    var subscriptions: [SubscriptionFilter: SubscriptionOptions] = [:]
    var outgoing: OutgoingFlows<Outgoing>
    /// The packet identifiers of the messages in `outgoing`'s window.
    var packetIDs = PacketIDAllocator()
    /// Incoming QoS 2 messages delivered onward and awaiting PUBREL.
    var receipts = ExactlyOnceReceipts()
    var routingMark = RoutingMark()
    var flowControl = FlowControl()
    /// Who the client is, for the ACL: set at each CONNECT.
    var identity: ClientIdentity
    /// Its rules in the ACL of the listener it last connected through, if
    /// that listener has an ACL.
    var permissions: ClientPermissions?
    var listenerIndex = 0
    /// When the session expires while its client is away; nil while it is
    /// connected, or if it never expires.
    var expiryDeadline: NIODeadline?
    private let statistics: BrokerStatistics

    init(clientID: String, expiryInterval: UInt32, limits: BrokerConfiguration, statistics: BrokerStatistics) {
        self.clientID = clientID
        self.identity = ClientIdentity(clientID: clientID, username: nil)
        self.expiryInterval = expiryInterval
        self.outgoing = OutgoingFlows(
            maximumInflight: limits.maximumInflightMessages, maximumInflightBytes: limits.maximumInflightBytes,
            maximumQueued: limits.maximumQueuedMessages,
            maximumQueuedBytes: limits.maximumQueuedBytes)
        self.statistics = statistics
    }

    /// Whether the session outlives its connection.
    var isPersistent: Bool { expiryInterval > 0 }
    var isAway: Bool { connection == nil }

    func deliver(_ message: BrokerMessage, as delivery: Delivery, encoded: inout SharedEncoding) {
        if let permissions, !permissions.mayReceive(topic: message.topic) { return }
        guard delivery.qos != .atMostOnce else {
            // QoS 0 is not queued for absent clients (Mosquitto's default) and
            // is dropped for clients that do not keep up.
            guard let connection else { return }
            guard connection.isWritable else {
                statistics.droppedMessages += 1
                return
            }
            if !connection.send(message, delivery, encoded: &encoded) { statistics.droppedMessages += 1 }
            return
        }
        switch outgoing.admit(Outgoing(message: message, delivery: delivery), windowOpen: connection != nil, ids: &packetIDs) {
        case .send(let entry): if !send(entry, dup: false) { sendQueued() }
        case .queued: break
        case .dropped: statistics.droppedMessages += 1
        }
    }

    /// Binds the session to a new connection and resends what was inflight,
    /// in order and with DUP set, then what was queued.
    func attach(_ connection: ConnectionHandler) {
        self.connection = connection
        expiryDeadline = nil
        outgoing.limitWindow(toPeerMaximum: connection.clientReceiveMaximum)
        for entry in outgoing.inflightInOrder { send(entry, dup: true) }
        sendQueued()
    }

    func detach() {
        connection = nil
    }

    /// Forgets every message: the session is over.
    func clear() {
        _ = outgoing.removeAll(ids: &packetIDs)
        receipts.removeAll()
    }

    // An absent client's queue holds nobody back: it is bounded and drops.
    var isBehind: Bool { connection != nil && outgoing.isAboveHighWater }
    var hasCaughtUp: Bool { outgoing.isAtOrBelowLowWater }
    var ownConnection: ConnectionHandler? { connection }
    var name: String { "client \"\(clientID)\"" }
    var canTakeSharedMessage: Bool { connection != nil && !outgoing.isWindowFull }

    /// Lets queued messages into the window freed by an acknowledgement.
    func sendQueued() {
        guard connection != nil else { return }
        var expired = 0
        // A message the client cannot take frees its place at once: fill it too.
        var placesFreed = true
        while placesFreed {
            placesFreed = false
            for entry in outgoing.refill(ids: &packetIDs, expired: &expired) where !send(entry, dup: false) { placesFreed = true }
        }
        statistics.expiredMessages += expired
    }

    /// Sends an inflight message at its stage; false when it was too large
    /// for the client, and its flow was ended instead.
    @discardableResult
    private func send(_ entry: OutgoingFlows<Outgoing>.Entry, dup: Bool) -> Bool {
        guard let connection else { return true }
        switch entry.stage {
        case .published:
            let outgoing = entry.message
            var unshared = SharedEncoding()
            if !connection.send(outgoing.message, outgoing.delivery, packetID: entry.packetID, dup: dup, encoded: &unshared) {
                // Larger than this client takes: it can never be sent, so its flow ends here.
                _ = self.outgoing.abandon(entry.packetID, ids: &packetIDs)
                statistics.droppedMessages += 1
                return false
            }
        case .released:
            connection.send(.pubrel(AckPacket(packetID: entry.packetID)))
        }
        return true
    }
}
