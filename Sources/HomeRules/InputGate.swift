import Synchronization

/// Keeps the daemon's input queue short: past `high` messages waiting, the
/// bus stops reading from devices (TCP then holds them back); at `low`, it
/// reads again. Messages dropped anyway (a bus that cannot pause) are
/// counted and reported in the log once a second, not once each, and in
/// the event log with each maintenance pass.
final class InputGate: Sendable {
    private struct State {
        var waiting = 0
        var paused = false
        var dropped = 0
        var lastReport: ContinuousClock.Instant?
        /// Drops not yet recorded as an `error` event.
        var unrecorded = 0
    }

    let high: Int
    let low: Int
    private let state = Mutex(State())

    init(high: Int = 5_000, low: Int = 500) {
        self.high = high
        self.low = low
    }

    /// A message joined the queue; true when the bus should pause now.
    func entered() -> Bool {
        state.withLock { state in
            state.waiting += 1
            guard state.waiting >= high, !state.paused else { return false }
            state.paused = true
            return true
        }
    }

    /// A message left the queue; true when the bus should read again now.
    func left() -> Bool {
        state.withLock { state in
            state.waiting -= 1
            guard state.waiting <= low, state.paused else { return false }
            state.paused = false
            return true
        }
    }

    /// A message could not join the queue. Returns how many were dropped
    /// since the last report when it is time for one (at most every second).
    func dropped(now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { state in
            state.waiting -= 1
            state.dropped += 1
            state.unrecorded += 1
            if let last = state.lastReport, now - last < .seconds(1) { return nil }
            defer { state.dropped = 0 }
            state.lastReport = now
            return state.dropped
        }
    }

    /// How many messages were dropped since the last call, when any were:
    /// for the event log, where `homerules events` shows them.
    func takeUnrecordedDrops() -> Int? {
        state.withLock { state in
            defer { state.unrecorded = 0 }
            return state.unrecorded > 0 ? state.unrecorded : nil
        }
    }
}
