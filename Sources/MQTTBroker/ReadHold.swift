import NIOCore

/// Who stops a connection from being read: each subscriber it feeds that is
/// behind (backpressure). While held, the connection's packets wait
/// unprocessed and TCP slows its client down.
struct ReadHold {
    private var holders: Set<ObjectIdentifier> = []
    private var since: NIODeadline?

    var isHeld: Bool { !holders.isEmpty }

    /// Adds a holder; true when this starts the hold.
    mutating func hold(by holder: ObjectIdentifier, now: NIODeadline = .now()) -> Bool {
        guard holders.insert(holder).inserted, holders.count == 1 else { return false }
        since = now
        return true
    }

    /// Removes a holder, or every holder when `holder` is nil; when this
    /// ends the hold, returns how long it lasted.
    mutating func release(by holder: ObjectIdentifier?, now: NIODeadline = .now()) -> TimeAmount? {
        guard isHeld else { return nil }
        if let holder {
            guard holders.remove(holder) != nil, holders.isEmpty else { return nil }
        } else {
            holders.removeAll()
        }
        defer { since = nil }
        return since.map { now - $0 }
    }
}
