import MQTT
import NIOCore

/// The QoS 1 and QoS 2 publishes this client has started and the broker has
/// not yet completed, plus those waiting for a slot in the inflight window.
///
/// Pure bookkeeping: it decides which packets to send and which callers to
/// complete; the ``ClientSession`` writes and completes them. Order is kept
/// throughout: publishes enter the window in the order they were submitted,
/// and are resent in that order after a reconnect.
struct OutboundPublishes {
    /// How far the exchange for one packet identifier has come.
    enum Stage {
        /// Sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
        case awaitingAcknowledgement
        /// QoS 2 only: PUBREC received, PUBREL sent; waiting for PUBCOMP.
        case awaitingCompletion
    }

    private struct Inflight {
        var packet: PublishPacket
        var stage: Stage
        /// The caller waiting for completion; nil once it was told the
        /// outcome (a PUBREL kept across `disconnect()` has no caller left).
        var promise: EventLoopPromise<Void>?
        let sequence: UInt64
    }

    private struct Waiting {
        var packet: PublishPacket
        var promise: EventLoopPromise<Void>
    }

    private var inflight: [UInt16: Inflight] = [:]
    private var waiting = CircularBuffer<Waiting>()
    private var nextSequence: UInt64 = 0
    /// The configured window, or the broker's Receive Maximum if smaller.
    private var window: Int
    private let configuredWindow: Int
    private let queueLimit: Int

    init(window: Int, queueLimit: Int) {
        self.configuredWindow = window
        self.window = window
        self.queueLimit = queueLimit
    }

    /// Narrows the window to the broker's Receive Maximum (MQTT 5, at each
    /// CONNACK; nil for none): publishes already in a wider window finish.
    mutating func limitWindow(toBrokerMaximum brokerMaximum: Int?) {
        window = min(configuredWindow, brokerMaximum ?? .max)
    }

    var inflightCount: Int { inflight.count }
    var waitingCount: Int { waiting.count }

    /// Queues a publish; ``admit(ids:)`` moves it into flight.
    mutating func submit(_ packet: PublishPacket, promise: EventLoopPromise<Void>) throws(MQTTClientError) {
        precondition(packet.qos != .atMostOnce, "QoS 0 publishes are not tracked")
        guard waiting.count < queueLimit else { throw .queueFull(limit: queueLimit) }
        waiting.append(Waiting(packet: packet, promise: promise))
    }

    /// Moves waiting publishes into flight while the window and the identifier
    /// space allow, and returns them, with their identifiers, to be sent.
    mutating func admit(ids: inout PacketIDAllocator) -> [PublishPacket] {
        var admitted: [PublishPacket] = []
        while inflight.count < window, !waiting.isEmpty, let id = ids.allocate() {
            var next = waiting.removeFirst()
            next.packet.packetID = id
            inflight[id] = Inflight(
                packet: next.packet, stage: .awaitingAcknowledgement, promise: next.promise, sequence: nextSequence)
            nextSequence += 1
            admitted.append(next.packet)
        }
        return admitted
    }

    /// What an acknowledgement from the broker means.
    enum Acknowledgement {
        /// The exchange is complete: free the identifier, succeed the caller.
        case completed(EventLoopPromise<Void>?)
        /// PUBREC: answer with PUBREL.
        case release
        /// No exchange of ours is at that point for this identifier.
        case unexpected
    }

    mutating func puback(_ id: UInt16) -> Acknowledgement {
        guard let entry = inflight[id], entry.packet.qos == .atLeastOnce else { return .unexpected }
        inflight[id] = nil
        return .completed(entry.promise)
    }

    mutating func pubrec(_ id: UInt16) -> Acknowledgement {
        guard inflight[id]?.packet.qos == .exactlyOnce else { return .unexpected }
        // A repeated PUBREC (the broker resending after a reconnect) is answered again.
        inflight[id]!.stage = .awaitingCompletion
        return .release
    }

    /// MQTT 5: PUBACK or PUBREC with an error reason code: the broker
    /// refused the message, and the exchange ends there.
    mutating func refused(_ id: UInt16) -> Acknowledgement {
        guard let entry = inflight[id], entry.stage == .awaitingAcknowledgement else { return .unexpected }
        inflight[id] = nil
        return .completed(entry.promise)
    }

    mutating func pubcomp(_ id: UInt16) -> Acknowledgement {
        guard let entry = inflight[id], entry.stage == .awaitingCompletion else { return .unexpected }
        inflight[id] = nil
        return .completed(entry.promise)
    }

    /// The packets to send on a new connection, in their original order.
    ///
    /// When the broker kept the session, unacknowledged publishes go again
    /// with DUP set and PUBREL goes again for those past PUBREC (§4.4). When
    /// the session is new, the broker knows none of them: every unfinished
    /// publish starts over as a new one, so a QoS 2 publish whose PUBREC had
    /// arrived may reach subscribers twice if the broker had delivered it
    /// before losing the session; PUBRELs kept without a caller are dropped.
    mutating func resume(sessionPresent: Bool, ids: inout PacketIDAllocator) -> [Packet] {
        if !sessionPresent {
            for (id, entry) in inflight {
                if entry.promise == nil {
                    inflight[id] = nil
                    ids.release(id)
                } else {
                    inflight[id]!.stage = .awaitingAcknowledgement
                    inflight[id]!.packet.dup = false
                }
            }
        }
        return inflight.values.sorted { $0.sequence < $1.sequence }.map { entry in
            switch entry.stage {
            case .awaitingCompletion:
                return .pubrel(AckPacket(packetID: entry.packet.packetID))
            case .awaitingAcknowledgement:
                var packet = entry.packet
                packet.dup = sessionPresent
                return .publish(packet)
            }
        }
    }

    /// Ends every exchange and returns the callers to fail, when the client
    /// stops. With `keepingReleases`, a publish past PUBREC stays, without a
    /// caller, so that its PUBREL can complete it if the broker's session
    /// resumes; otherwise the broker would hold its identifier forever.
    mutating func abandon(keepingReleases: Bool, ids: inout PacketIDAllocator) -> [EventLoopPromise<Void>] {
        var promises = waiting.map(\.promise)
        waiting.removeAll()
        for (id, entry) in inflight.sorted(by: { $0.value.sequence < $1.value.sequence }) {
            if let promise = entry.promise { promises.append(promise) }
            if keepingReleases && entry.stage == .awaitingCompletion {
                inflight[id]!.promise = nil
            } else {
                inflight[id] = nil
                ids.release(id)
            }
        }
        return promises
    }
}
