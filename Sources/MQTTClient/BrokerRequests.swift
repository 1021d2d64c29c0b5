import MQTT
import NIOCore

/// SUBSCRIBE and UNSUBSCRIBE requests: queued while there is no connection,
/// then in flight until the broker's SUBACK or UNSUBACK.
///
/// A connection that drops with requests in flight puts them back at the head
/// of the queue, in their original order, to be sent again on the next one:
/// both requests are idempotent, so a repeat does no harm.
struct BrokerRequests {
    enum Request {
        /// SUBSCRIBE for a local subscription, or, with no subscription, to
        /// restore the broker's side after it lost the session.
        case subscribe([TopicSubscription], subscription: SubscriptionID?, promise: EventLoopPromise<[QoS]>?)
        case unsubscribe([String], promise: EventLoopPromise<Void>?)

        func packet(id: UInt16) -> Packet {
            switch self {
            case .subscribe(let filters, _, _):
                .subscribe(SubscribePacket(packetID: id, subscriptions: filters))
            case .unsubscribe(let filters, _):
                .unsubscribe(UnsubscribePacket(packetID: id, filters: filters))
            }
        }

        /// A restoring SUBSCRIBE is derived again from the local
        /// subscriptions on every new session, so it is not worth keeping.
        var isRestoration: Bool {
            if case .subscribe(_, subscription: nil, _) = self { true } else { false }
        }

        func fail(_ error: any Error) {
            switch self {
            case .subscribe(_, _, let promise): promise?.fail(error)
            case .unsubscribe(_, let promise): promise?.fail(error)
            }
        }
    }

    private var queued = CircularBuffer<Request>()
    private var sent: [UInt16: (sequence: UInt64, request: Request)] = [:]
    private var nextSequence: UInt64 = 0

    mutating func enqueue(_ request: Request) {
        queued.append(request)
    }

    /// Puts requests ahead of everything queued, keeping their order.
    mutating func prepend(_ requests: [Request]) {
        for request in requests.reversed() { queued.prepend(request) }
    }

    /// Gives identifiers to queued requests and returns their packets, in
    /// order; stops early only if all 65,535 identifiers are taken.
    mutating func sendQueued(ids: inout PacketIDAllocator) -> [Packet] {
        var packets: [Packet] = []
        while !queued.isEmpty, let id = ids.allocate() {
            let request = queued.removeFirst()
            sent[id] = (nextSequence, request)
            nextSequence += 1
            packets.append(request.packet(id: id))
        }
        return packets
    }

    /// The in-flight request that SUBACK or UNSUBACK `id` answers, removed.
    mutating func complete(_ id: UInt16, ids: inout PacketIDAllocator) -> Request? {
        guard let entry = sent.removeValue(forKey: id) else { return nil }
        ids.release(id)
        return entry.request
    }

    /// Puts in-flight requests back at the head of the queue after a
    /// connection loss.
    mutating func requeueSent(ids: inout PacketIDAllocator) {
        let inFlight = sent.sorted { $0.value.sequence < $1.value.sequence }
        sent.removeAll()
        for (id, entry) in inFlight.reversed() {
            ids.release(id)
            if !entry.request.isRestoration { queued.prepend(entry.request) }
        }
    }

    /// Removes every request, returning them for their callers to be failed.
    mutating func abandon(ids: inout PacketIDAllocator) -> [Request] {
        requeueSent(ids: &ids)
        defer { queued.removeAll() }
        return Array(queued)
    }
}
