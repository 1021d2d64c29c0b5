import DequeModule
import NIOCore

/// Persistent sessions whose client is away, in the order they will expire
/// (`persistent_client_expiration`): one timeout for all, so the order
/// they left in is the order they expire in, and each sweep looks only at
/// the front.
struct SessionExpiry {
    let expiration: TimeAmount
    private var waiting = Deque<(deadline: NIODeadline, session: Session)>()

    init(expiration: TimeAmount) {
        self.expiration = expiration
    }

    /// The session's client has just left.
    mutating func clientLeft(_ session: Session, at now: NIODeadline = .now()) {
        session.awaySince = now
        waiting.append((now + expiration, session))
    }

    /// The sessions expired by `now` whose clients are still away.
    mutating func expired(by now: NIODeadline) -> [Session] {
        var expired: [Session] = []
        while let first = waiting.first, first.deadline <= now {
            waiting.removeFirst()
            // A client that came back (and maybe left again since) is not due by this entry.
            if first.session.connection == nil, let since = first.session.awaySince, since + expiration == first.deadline {
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
