import DequeModule
import NIOCore

/// What `OutgoingFlows` needs of the messages it holds.
package protocol FlowMessage {
    var qos: QoS { get }
    /// Topic and payload bytes, for the byte bounds of the window and queue.
    var byteCount: Int { get }
    /// Whether it may no longer start its way to the peer (MQTT 5 message
    /// expiry); once sent, it finishes its flow regardless.
    func isExpired(at now: NIODeadline) -> Bool
}

extension FlowMessage {
    package func isExpired(at now: NIODeadline) -> Bool { false }
}

/// One side's outgoing QoS 1 and 2 messages: those sent and awaiting
/// acknowledgement (the inflight window), and those waiting for a place in
/// it, with the stages of their flows (§4.3). The one implementation of the
/// QoS flows: a broker session holds one per client, the client one for its
/// publishes.
///
/// Both parts are bounded: the window in messages (and the peer's Receive
/// Maximum) and optionally in bytes, the queue likewise, whichever is
/// reached first. Order is kept: a message leaves the queue only for the
/// end of the window, and flights are resent in the order they started.
/// Packet identifiers come from a `PacketIDAllocator` that the caller owns,
/// as a client shares its identifiers with SUBSCRIBE and UNSUBSCRIBE.
package struct OutgoingFlows<Message: FlowMessage> {
    /// Where an inflight message stands in its QoS flow.
    package enum Stage: Equatable, Sendable {
        /// PUBLISH sent; awaiting PUBACK (QoS 1) or PUBREC (QoS 2).
        case published
        /// PUBREL sent; awaiting PUBCOMP.
        case released
    }

    package struct Entry {
        package var packetID: UInt16
        package var message: Message
        package var stage: Stage
        /// When it entered the window, for resending in order.
        package var sequence: UInt64
    }

    package enum Admission {
        /// Took a place in the window: send it now.
        case send(Entry)
        /// Waits in the queue.
        case queued
        /// The queue is full; the message is refused.
        case dropped
    }

    /// The configured window, or the peer's Receive Maximum if smaller.
    package private(set) var maximumInflight: Int
    private let configuredMaximumInflight: Int
    package let maximumInflightBytes: Int
    package let maximumQueued: Int
    package let maximumQueuedBytes: Int
    /// By packet identifier: acknowledgements find their flight at once,
    /// however wide the window (up to 65,535).
    private var inflight: [UInt16: Entry] = [:]
    private var flightsStarted: UInt64 = 0
    /// Topic and payload bytes of the inflight messages.
    package private(set) var inflightBytes = 0
    // A Deque: most peers never have a queue, and an empty one costs nothing.
    package private(set) var queued = Deque<Message>()
    /// Topic and payload bytes of the queued messages.
    package private(set) var queuedBytes = 0

    /// - Parameters:
    ///   - maximumInflightBytes: 0 for no bound but the count.
    ///   - maximumQueuedBytes: 0 for no bound but the count.
    package init(maximumInflight: Int, maximumInflightBytes: Int = 0, maximumQueued: Int, maximumQueuedBytes: Int = 0) {
        // Every flight holds a packet identifier; there are 65,535.
        self.configuredMaximumInflight = min(max(1, maximumInflight), 65_535)
        self.maximumInflight = configuredMaximumInflight
        self.maximumInflightBytes = max(0, maximumInflightBytes)
        self.maximumQueued = max(0, maximumQueued)
        self.maximumQueuedBytes = max(0, maximumQueuedBytes)
    }

    /// Narrows the window to what the peer says it can take (MQTT 5's
    /// Receive Maximum, at each connection; nil for no limit of its own).
    /// Messages already in a wider window finish their flows; no new one
    /// starts until the window is below the new width.
    package mutating func limitWindow(toPeerMaximum peerMaximum: Int?) {
        maximumInflight = min(configuredMaximumInflight, peerMaximum ?? .max)
    }

    package var inflightCount: Int { inflight.count }
    /// Whether every place of the window is taken.
    package var isWindowFull: Bool { inflight.count >= maximumInflight }

    /// Half full, in messages or bytes: publishers feeding the peer wait.
    package var isAboveHighWater: Bool {
        queued.count >= max(1, maximumQueued / 2) || (maximumQueuedBytes > 0 && queuedBytes >= maximumQueuedBytes / 2)
    }

    /// A quarter full or less, in both: publishers are read again.
    package var isAtOrBelowLowWater: Bool {
        queued.count <= maximumQueued / 4 && (maximumQueuedBytes == 0 || queuedBytes <= maximumQueuedBytes / 4)
    }

    /// Takes a QoS 1 or 2 message; `windowOpen` is false while the peer is
    /// not connected. A message that takes a place in the window holds a
    /// packet identifier from `ids` until its flow ends.
    package mutating func admit(_ message: Message, windowOpen: Bool, ids: inout PacketIDAllocator) -> Admission {
        let size = message.byteCount
        if windowOpen && queued.isEmpty && windowHasRoom(forBytes: size), let entry = startFlight(message, size: size, ids: &ids) {
            return .send(entry)
        }
        return enqueue(message) ? .queued : .dropped
    }

    /// Puts a message at the end of the queue, where `refill` takes it from;
    /// false when the queue is full.
    package mutating func enqueue(_ message: Message) -> Bool {
        let size = message.byteCount
        guard queued.count < maximumQueued else { return false }
        // A message larger than the bound is still taken by an empty queue,
        // as Mosquitto does, or it could never reach the peer.
        if maximumQueuedBytes > 0, !queued.isEmpty, queuedBytes + size > maximumQueuedBytes { return false }
        queued.append(message)
        queuedBytes += size
        return true
    }

    /// Moves queued messages into free places of the window, in order;
    /// those expired on the way are dropped and counted in `expired`.
    package mutating func refill(ids: inout PacketIDAllocator, at now: NIODeadline = .now(), expired: inout Int) -> [Entry] {
        var started: [Entry] = []
        while let next = queued.first {
            let size = next.byteCount
            if next.isExpired(at: now) {
                queued.removeFirst()
                queuedBytes -= size
                expired += 1
                continue
            }
            guard windowHasRoom(forBytes: size), let entry = startFlight(next, size: size, ids: &ids) else { break }
            queued.removeFirst()
            queuedBytes -= size
            started.append(entry)
        }
        return started
    }

    /// Whether a message of `size` bytes may enter the window now. An empty
    /// window takes a message of any size, or it could never be sent.
    private func windowHasRoom(forBytes size: Int) -> Bool {
        guard inflight.count < maximumInflight else { return false }
        return maximumInflightBytes == 0 || inflight.isEmpty || inflightBytes + size <= maximumInflightBytes
    }

    /// PUBACK: a QoS 1 flight ends. Returns it, if it was ours.
    package mutating func acknowledge(_ packetID: UInt16, ids: inout PacketIDAllocator) -> Entry? {
        finish(packetID, expecting: .published, qos: .atLeastOnce, ids: &ids)
    }

    /// PUBREC: a QoS 2 flight moves on to PUBREL. Returns whether it was
    /// ours; a repeated PUBREC (after a reconnect) is answered again.
    package mutating func received(_ packetID: UInt16) -> Bool {
        guard inflight[packetID]?.message.qos == .exactlyOnce else { return false }
        inflight[packetID]?.stage = .released
        return true
    }

    /// PUBCOMP: a QoS 2 flight ends. Returns it, if it was ours.
    package mutating func complete(_ packetID: UInt16, ids: inout PacketIDAllocator) -> Entry? {
        finish(packetID, expecting: .released, qos: .exactlyOnce, ids: &ids)
    }

    /// Ends a flight before its acknowledgement: the peer refused it (MQTT
    /// 5's PUBACK or PUBREC with an error reason code), or it can never be
    /// sent (larger than the peer's Maximum Packet Size). Returns it, if it was ours.
    package mutating func abandon(_ packetID: UInt16, ids: inout PacketIDAllocator) -> Entry? {
        guard let entry = inflight.removeValue(forKey: packetID) else { return nil }
        inflightBytes -= entry.message.byteCount
        ids.release(packetID)
        return entry
    }

    /// Where the flight of `packetID` stands; nil if none is ours.
    package func stage(of packetID: UInt16) -> Stage? { inflight[packetID]?.stage }

    /// The messages in the window, in the order they entered it: what a
    /// peer that kept its session is sent again.
    package var inflightInOrder: [Entry] {
        inflight.values.sorted { $0.sequence < $1.sequence }
    }

    /// Changes every message in the window (a client forgetting its callers).
    package mutating func updateInflight(_ body: (inout Entry) -> Void) {
        for id in Array(inflight.keys) { body(&inflight[id]!) }
    }

    /// Ends the flights for which `shouldEnd` holds, and when `andQueue`
    /// the queue too; returns their messages, queue first, then flights in order.
    package mutating func removeAll(
        andQueue: Bool = true, ids: inout PacketIDAllocator, where shouldEnd: (Entry) -> Bool = { _ in true }
    ) -> [Message] {
        var removed: [Message] = []
        if andQueue {
            removed.append(contentsOf: queued)
            queued.removeAll()
            queuedBytes = 0
        }
        for entry in inflightInOrder where shouldEnd(entry) {
            _ = abandon(entry.packetID, ids: &ids)
            removed.append(entry.message)
        }
        return removed
    }

    private mutating func finish(
        _ packetID: UInt16, expecting stage: Stage, qos: QoS, ids: inout PacketIDAllocator
    ) -> Entry? {
        guard let entry = inflight[packetID], entry.stage == stage, entry.message.qos == qos else { return nil }
        return abandon(packetID, ids: &ids)
    }

    private mutating func startFlight(_ message: Message, size: Int, ids: inout PacketIDAllocator) -> Entry? {
        guard let packetID = ids.allocate() else { return nil }
        flightsStarted += 1
        inflightBytes += size
        let entry = Entry(packetID: packetID, message: message, stage: .published, sequence: flightsStarted)
        inflight[packetID] = entry
        return entry
    }
}

/// The QoS 2 packet identifiers a receiver answered with PUBREC and awaits
/// PUBREL for (§4.3.3): a resent PUBLISH with one of them is not delivered
/// twice. A broker session keeps one per client, the client one for the broker.
package struct ExactlyOnceReceipts: Sendable {
    private var awaitingRelease: Set<UInt16> = []

    package init() {}

    package var count: Int { awaitingRelease.count }

    package func contains(_ packetID: UInt16) -> Bool { awaitingRelease.contains(packetID) }

    /// A QoS 2 PUBLISH arrived: true the first time, when it is to be delivered.
    package mutating func receive(_ packetID: UInt16) -> Bool { awaitingRelease.insert(packetID).inserted }

    /// PUBREL: the flow ends. Returns whether it was awaited.
    @discardableResult
    package mutating func release(_ packetID: UInt16) -> Bool { awaitingRelease.remove(packetID) != nil }

    /// A new session: nothing is awaited.
    package mutating func removeAll() { awaitingRelease.removeAll() }
}

extension MQTTMessage: FlowMessage {
    package var byteCount: Int { topic.utf8.count + payload.readableBytes }
}
