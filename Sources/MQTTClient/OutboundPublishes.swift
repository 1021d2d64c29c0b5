import MQTT
import NIOCore

/// The QoS 1 and QoS 2 publishes this client has started and the broker has
/// not yet completed, plus those waiting for a slot in the inflight window:
/// the broker's `OutgoingFlows`, holding the callers' promises.
///
/// Pure bookkeeping: it decides which packets to send and which callers to
/// complete; the ``ClientSession`` writes and completes them. Order is kept
/// throughout: publishes enter the window in the order they were submitted,
/// and are resent in that order after a reconnect.
struct OutboundPublishes {
    /// A publish and the caller waiting for its completion; nil once the
    /// caller was told the outcome (a PUBREL kept across `disconnect()` has
    /// no caller left).
    struct Publish: FlowMessage {
        var packet: PublishPacket
        var promise: EventLoopPromise<Void>?

        var qos: QoS { packet.qos }
        var byteCount: Int { packet.topic.utf8.count + packet.payload.readableBytes }
    }

    private var flows: OutgoingFlows<Publish>

    init(window: Int, queueLimit: Int) {
        flows = OutgoingFlows(maximumInflight: window, maximumQueued: queueLimit)
    }

    var inflightCount: Int { flows.inflightCount }
    var waitingCount: Int { flows.queued.count }

    /// Narrows the window to the broker's Receive Maximum (MQTT 5, at each
    /// CONNACK; nil for none): publishes already in a wider window finish.
    mutating func limitWindow(toBrokerMaximum brokerMaximum: Int?) {
        flows.limitWindow(toPeerMaximum: brokerMaximum)
    }

    /// Queues a publish; ``admit(ids:)`` moves it into flight.
    mutating func submit(_ packet: PublishPacket, promise: EventLoopPromise<Void>) throws(MQTTClientError) {
        precondition(packet.qos != .atMostOnce, "QoS 0 publishes are not tracked")
        guard flows.enqueue(Publish(packet: packet, promise: promise)) else { throw .queueFull(limit: flows.maximumQueued) }
    }

    /// Moves waiting publishes into flight while the window and the identifier
    /// space allow, and returns them, with their identifiers, to be sent.
    mutating func admit(ids: inout PacketIDAllocator) -> [PublishPacket] {
        var expired = 0
        return flows.refill(ids: &ids, expired: &expired).map(Self.packet)
    }

    /// What an acknowledgement from the broker means.
    enum Acknowledgement {
        /// The exchange is complete (its identifier freed): complete the caller.
        case completed(EventLoopPromise<Void>?)
        /// PUBREC: answer with PUBREL.
        case release
        /// No exchange of ours is at that point for this identifier.
        case unexpected
    }

    mutating func puback(_ id: UInt16, ids: inout PacketIDAllocator) -> Acknowledgement {
        flows.acknowledge(id, ids: &ids).map { .completed($0.message.promise) } ?? .unexpected
    }

    mutating func pubrec(_ id: UInt16) -> Acknowledgement {
        flows.received(id) ? .release : .unexpected
    }

    mutating func pubcomp(_ id: UInt16, ids: inout PacketIDAllocator) -> Acknowledgement {
        flows.complete(id, ids: &ids).map { .completed($0.message.promise) } ?? .unexpected
    }

    /// MQTT 5: PUBACK or PUBREC with an error reason code: the broker
    /// refused the message, and the exchange ends there.
    mutating func refused(_ id: UInt16, ids: inout PacketIDAllocator) -> Acknowledgement {
        guard flows.stage(of: id) == .published else { return .unexpected }
        return flows.abandon(id, ids: &ids).map { .completed($0.message.promise) } ?? .unexpected
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
            _ = flows.removeAll(andQueue: false, ids: &ids) { $0.message.promise == nil }
            flows.updateInflight { $0.stage = .published }
        }
        return flows.inflightInOrder.map { entry in
            switch entry.stage {
            case .released:
                return .pubrel(AckPacket(packetID: entry.packetID))
            case .published:
                var packet = Self.packet(entry)
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
        var promises = flows.removeAll(ids: &ids) { !keepingReleases || $0.stage != .released }.compactMap(\.promise)
        flows.updateInflight { entry in
            if let promise = entry.message.promise { promises.append(promise) }
            entry.message.promise = nil
        }
        return promises
    }

    /// The packet of a flight, with its identifier.
    private static func packet(_ entry: OutgoingFlows<Publish>.Entry) -> PublishPacket {
        var packet = entry.message.packet
        packet.packetID = entry.packetID
        return packet
    }
}
