import DequeModule
import MQTT
import NIOCore

/// A client's outgoing QoS 1 and 2 messages: those sent and awaiting
/// acknowledgement (the inflight window), and those waiting for a place in it.
///
/// Both parts are bounded: the window by `max_inflight_messages`, the queue
/// by `max_queued_messages` and `max_queued_bytes`, whichever is reached
/// first (as Mosquitto). Order is kept: a message leaves the queue only for
/// the end of the window.
struct OutgoingMessages {
    /// Where an inflight message stands in its QoS flow.
    enum Stage: Equatable {
        /// PUBLISH sent; awaiting PUBACK (QoS 1) or PUBREC (QoS 2).
        case published
        /// PUBREL sent; awaiting PUBCOMP.
        case released
    }

    struct Entry {
        var packetID: UInt16
        var message: MQTTMessage
        var stage: Stage
    }

    enum Admission {
        /// Took a place in the window: send it now.
        case send(Entry)
        /// Waits in the queue.
        case queued
        /// The queue is full; the message is lost.
        case dropped
    }

    let maximumInflight: Int
    let maximumQueued: Int
    let maximumQueuedBytes: Int
    private(set) var inflight: [Entry] = []
    // A Deque: most clients never have a queue, and an empty one costs nothing.
    private(set) var queued = Deque<MQTTMessage>()
    /// Topic and payload bytes of the queued messages.
    private(set) var queuedBytes = 0
    private var lastPacketID: UInt16 = 0

    /// - Parameter maximumQueuedBytes: 0 for no bound but the count.
    init(maximumInflight: Int, maximumQueued: Int, maximumQueuedBytes: Int) {
        self.maximumInflight = max(1, maximumInflight)
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

    /// The bytes a message takes in the queue.
    static func size(of message: MQTTMessage) -> Int {
        message.topic.utf8.count + message.payload.readableBytes
    }

    /// Takes a QoS 1 or 2 message; `windowOpen` is false while the client is away.
    mutating func admit(_ message: MQTTMessage, windowOpen: Bool) -> Admission {
        if windowOpen && queued.isEmpty && inflight.count < maximumInflight {
            return .send(startFlight(message))
        }
        let size = Self.size(of: message)
        guard queued.count < maximumQueued else { return .dropped }
        // A message larger than the bound is still taken by an empty queue,
        // as Mosquitto does, or it could never reach the client.
        if maximumQueuedBytes > 0, !queued.isEmpty, queuedBytes + size > maximumQueuedBytes { return .dropped }
        queued.append(message)
        queuedBytes += size
        return .queued
    }

    /// Moves queued messages into free places of the window, in order.
    mutating func refill() -> [Entry] {
        var started: [Entry] = []
        while inflight.count < maximumInflight, let message = queued.popFirst() {
            queuedBytes -= Self.size(of: message)
            started.append(startFlight(message))
        }
        return started
    }

    /// PUBACK: a QoS 1 flight ends. Returns whether it was ours.
    mutating func acknowledge(_ packetID: UInt16) -> Bool {
        finish(packetID, expecting: .published, qos: .atLeastOnce)
    }

    /// PUBREC: a QoS 2 flight moves on to PUBREL. Returns whether it was ours.
    mutating func received(_ packetID: UInt16) -> Bool {
        guard let index = inflight.firstIndex(where: { $0.packetID == packetID && $0.message.qos == .exactlyOnce })
        else { return false }
        inflight[index].stage = .released
        return true
    }

    /// PUBCOMP: a QoS 2 flight ends. Returns whether it was ours.
    mutating func complete(_ packetID: UInt16) -> Bool {
        finish(packetID, expecting: .released, qos: .exactlyOnce)
    }

    /// Forgets everything: the session is clean again.
    mutating func removeAll() {
        inflight.removeAll()
        queued.removeAll()
        queuedBytes = 0
    }

    private mutating func finish(_ packetID: UInt16, expecting stage: Stage, qos: QoS) -> Bool {
        guard let index = inflight.firstIndex(where: { $0.packetID == packetID }),
              inflight[index].stage == stage, inflight[index].message.qos == qos
        else { return false }
        inflight.remove(at: index)
        return true
    }

    private mutating func startFlight(_ message: MQTTMessage) -> Entry {
        let entry = Entry(packetID: nextPacketID(), message: message, stage: .published)
        inflight.append(entry)
        return entry
    }

    /// The next identifier not held by an inflight message. The window is far
    /// smaller than 65,535, so the search ends quickly.
    private mutating func nextPacketID() -> UInt16 {
        repeat {
            lastPacketID = lastPacketID == UInt16.max ? 1 : lastPacketID + 1
        } while inflight.contains(where: { $0.packetID == lastPacketID })
        return lastPacketID
    }
}
