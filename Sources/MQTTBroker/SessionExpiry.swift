import HeapModule
import NIOCore

/// Sessions whose client is away, by the time each expires: MQTT 5's
/// session expiry interval, bounded by `persistent_client_expiration`
/// (which alone bounds 3.1.1's persistent sessions). A heap, so that each
/// sweep looks only at the earliest.
struct SessionExpiry {
    /// `persistent_client_expiration`: nil for no bound.
    let limit: TimeAmount?
    private var waiting = Heap<Due>()
    private var sequence: UInt64 = 0

    private struct Due: Comparable {
        var deadline: NIODeadline
        var sequence: UInt64
        var session: Session

        static func < (lhs: Due, rhs: Due) -> Bool {
            (lhs.deadline, lhs.sequence) < (rhs.deadline, rhs.sequence)
        }

        static func == (lhs: Due, rhs: Due) -> Bool { lhs.sequence == rhs.sequence }
    }

    init(limit: TimeAmount?) {
        self.limit = limit
    }

    /// The session's client has just left; returns false when the session
    /// ends now (an expiry interval of 0).
    mutating func clientLeft(_ session: Session, at now: NIODeadline = .now()) -> Bool {
        guard session.expiryInterval > 0 else { return false }
        var lifetime = session.expiryInterval == .max ? nil : TimeAmount.seconds(Int64(session.expiryInterval))
        if let limit { lifetime = min(lifetime ?? limit, limit) }
        guard let lifetime else {
            session.expiryDeadline = nil
            return true
        }
        sequence += 1
        session.expiryDeadline = now + lifetime
        waiting.insert(Due(deadline: now + lifetime, sequence: sequence, session: session))
        return true
    }

    /// The sessions expired by `now` whose clients are still away.
    mutating func expired(by now: NIODeadline) -> [Session] {
        var expired: [Session] = []
        while let first = waiting.min, first.deadline <= now {
            waiting.removeMin()
            // A client that came back (and maybe left again since) is not due by this entry.
            if first.session.isAway, first.session.expiryDeadline == first.deadline {
                expired.append(first.session)
            }
        }
        return expired
    }
}

extension BrokerConfiguration {
    /// Reads `persistent_client_expiration` as Mosquitto writes it: a whole
    /// number followed by `h`, `d`, `w`, `m` (30 days) or `y` (365 days),
    /// as in `14d`. Nil when it is not of that form.
    public static func parseExpiration(_ text: String) -> TimeAmount? {
        guard let unit = text.last, let count = Int64(text.dropLast()), count > 0, count <= 1_000 else { return nil }
        let hours: Int64
        switch unit {
        case "h": hours = 1
        case "d": hours = 24
        case "w": hours = 24 * 7
        case "m": hours = 24 * 30
        case "y": hours = 24 * 365
        default: return nil
        }
        return .hours(count * hours)
    }
}
