import DequeModule
import MQTT
import NIOCore

/// A client's outgoing QoS 1 and 2 messages: those sent and awaiting
/// acknowledgement (the inflight window), and those waiting for a place in it.
///
/// Both parts are bounded: the window by `max_inflight_messages` and
/// `max_inflight_bytes`, the queue by `max_queued_messages` and
/// `max_queued_bytes`, whichever is reached first (as Mosquitto). Order is
/// kept: a message leaves the queue only for the end of the window.
struct OutgoingMessages<Message: FlowMessage> {
    /// Where an inflight message stands in its QoS flow.
    enum Stage: Equatable {
        /// PUBLISH sent; awaiting PUBACK (QoS 1) or PUBREC (QoS 2).
        case published
        /// PUBREL sent; awaiting PUBCOMP.
        case released
    }

    struct Entry {
        var packetID: UInt16
        var message: Message
        var stage: Stage
        /// When it entered the window, for resending in order.
        var sequence: UInt64
    }

    enum Admission {
        /// Took a place in the window: send it now.
        case send(Entry)
        /// Waits in the queue.
        case queued
        /// The queue is full; the message is lost.
        case dropped
    }

    /// The configured window, or the client's Receive Maximum if smaller.
    private(set) var maximumInflight: Int
    private let configuredMaximumInflight: Int
    let maximumInflightBytes: Int
    let maximumQueued: Int
    let maximumQueuedBytes: Int
    /// By packet identifier: acknowledgements find their flight at once,
    /// however wide the window (up to 65,535).
    private var inflight: [UInt16: Entry] = [:]
    private var flightsStarted: UInt64 = 0
    /// Topic and payload bytes of the inflight messages.
    private(set) var inflightBytes = 0
    // A Deque: most clients never have a queue, and an empty one costs nothing.
    private(set) var queued = Deque<Message>()
    /// Topic and payload bytes of the queued messages.
    private(set) var queuedBytes = 0
    private var lastPacketID: UInt16 = 0

    /// - Parameters:
    ///   - maximumInflightBytes: 0 for no bound but the count.
    ///   - maximumQueuedBytes: 0 for no bound but the count.
    init(maximumInflight: Int, maximumInflightBytes: Int = 0, maximumQueued: Int, maximumQueuedBytes: Int) {
        // Every flight holds a packet identifier; there are 65,535.
        self.configuredMaximumInflight = min(max(1, maximumInflight), 65_535)
        self.maximumInflight = configuredMaximumInflight
        self.maximumInflightBytes = max(0, maximumInflightBytes)
        self.maximumQueued = max(0, maximumQueued)
        self.maximumQueuedBytes = max(0, maximumQueuedBytes)
    }

    /// Half full, in messages or bytes: publishers feeding the client wait.
    var isAboveHighWater: Bool {
        queued.count >= max(1, maximumQueued / 2) || (maximumQueuedBytes > 0 && queuedBytes >= maximumQueuedBytes / 2)
    }

    /// A quarter full or less, in both: publishers are read again.
    var isAtOrBelowLowWater: Bool {
        queued.count <= maximumQueued / 4 && (maximumQueuedBytes == 0 || queuedBytes <= maximumQueuedBytes / 4)
    }

    /// Narrows the window to what the client says it can take (MQTT 5's
    /// Receive Maximum, at each CONNECT; nil for no limit of its own).
    /// Messages already in a wider window finish their flows; no new one
    /// starts until the window is below the new width.
    mutating func limitWindow(toClientMaximum clientMaximum: Int?) {
        maximumInflight = min(configuredMaximumInflight, clientMaximum ?? .max)
    }

    /// Whether every place of the window is taken.
    var isWindowFull: Bool { inflight.count >= maximumInflight }

    /// Whether the client holds none of these messages: its window is empty and nothing waits.
    var isEmpty: Bool { inflight.isEmpty && queued.isEmpty }

    /// Takes a QoS 1 or 2 message; `windowOpen` is false while the client is away.
    mutating func admit(_ message: Message, windowOpen: Bool) -> Admission {
        let size = message.byteCount
        if windowOpen && queued.isEmpty && windowHasRoom(forBytes: size) {
            return .send(startFlight(message, size: size))
        }
        guard queued.count < maximumQueued else { return .dropped }
        // A message larger than the bound is still taken by an empty queue,
        // as Mosquitto does, or it could never reach the client.
        if maximumQueuedBytes > 0, !queued.isEmpty, queuedBytes + size > maximumQueuedBytes { return .dropped }
        queued.append(message)
        queuedBytes += size
        return .queued
    }

    /// Moves queued messages into free places of the window, in order;
    /// those expired on the way are dropped and counted in `expired`.
    mutating func refill(at now: NIODeadline = .now(), expired: inout Int) -> [Entry] {
        var started: [Entry] = []
        while let next = queued.first {
            let size = next.byteCount
            if next.isExpired(at: now) {
                queued.removeFirst()
                queuedBytes -= size
                expired += 1
                continue
            }
            guard windowHasRoom(forBytes: size) else { break }
            queued.removeFirst()
            queuedBytes -= size
            started.append(startFlight(next, size: size))
        }
        return started
    }

    /// Whether a message of `size` bytes may enter the window now. An empty
    /// window takes a message of any size, or it could never be sent.
    private func windowHasRoom(forBytes size: Int) -> Bool {
        guard inflight.count < maximumInflight else { return false }
        return maximumInflightBytes == 0 || inflight.isEmpty || inflightBytes + size <= maximumInflightBytes
    }

    /// PUBACK: a QoS 1 flight ends. Returns whether it was ours.
    mutating func acknowledge(_ packetID: UInt16) -> Bool {
        finish(packetID, expecting: .published, qos: .atLeastOnce)
    }

    /// PUBREC: a QoS 2 flight moves on to PUBREL. Returns whether it was ours.
    mutating func received(_ packetID: UInt16) -> Bool {
        guard inflight[packetID]?.message.qos == .exactlyOnce else { return false }
        inflight[packetID]?.stage = .released
        return true
    }

    /// The messages in the window, in the order they entered it: what a
    /// returning client is sent again.
    var inflightInOrder: [Entry] {
        inflight.values.sorted { $0.sequence < $1.sequence }
    }

    /// PUBCOMP: a QoS 2 flight ends. Returns whether it was ours.
    mutating func complete(_ packetID: UInt16) -> Bool {
        finish(packetID, expecting: .released, qos: .exactlyOnce)
    }

    /// Forgets everything: the session is clean again.
    mutating func removeAll() {
        inflight.removeAll()
        inflightBytes = 0
        queued.removeAll()
        queuedBytes = 0
    }

    /// Ends a flight before its acknowledgement: the client refused it (a
    /// PUBREC with an error reason code), or it can never be sent (larger
    /// than the client's Maximum Packet Size). Returns whether it was ours.
    mutating func abandon(_ packetID: UInt16) -> Bool {
        guard let entry = inflight.removeValue(forKey: packetID) else { return false }
        inflightBytes -= entry.message.byteCount
        return true
    }

    private mutating func finish(_ packetID: UInt16, expecting stage: Stage, qos: QoS) -> Bool {
        guard let entry = inflight[packetID], entry.stage == stage, entry.message.qos == qos else { return false }
        inflight[packetID] = nil
        inflightBytes -= entry.message.byteCount
        return true
    }

    private mutating func startFlight(_ message: Message, size: Int) -> Entry {
        flightsStarted += 1
        inflightBytes += size
        let entry = Entry(packetID: nextPacketID(), message: message, stage: .published, sequence: flightsStarted)
        inflight[entry.packetID] = entry
        return entry
    }

    /// The next identifier not held by an inflight message. Identifiers go
    /// round in order and acknowledgements mostly come in order, so the
    /// search ends at once; a free one exists, as the window is at most 65,535.
    private mutating func nextPacketID() -> UInt16 {
        repeat {
            lastPacketID = lastPacketID == UInt16.max ? 1 : lastPacketID + 1
        } while inflight[lastPacketID] != nil
        return lastPacketID
    }
}
