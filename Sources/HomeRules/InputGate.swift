import Synchronization

/// Keeps the daemon's input queue short: past `high` messages waiting, the
/// bus stops reading from devices (TCP then holds them back); at `low`, it
/// reads again. Beyond `capacity` (a bus that cannot pause), messages are
/// dropped, counted and reported in the log once a second, not once each,
/// and in the event log with each maintenance pass.
///
/// Only messages count: the daemon's own inputs (clock ticks, reloads, the
/// outcome of a load) are never dropped.
final class InputGate: Sendable {
    /// What becomes of a message arriving at the gate.
    enum Admission: Equatable {
        case queued
        /// Queued, and the bus should stop reading now.
        case queuedAndPause
        /// Dropped, the queue being full; `report` is the number dropped
        /// since the last report, when it is time for one.
        case dropped(report: Int?)
    }

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
    let capacity: Int
    private let state = Mutex(State())

    init(high: Int = 5_000, low: Int = 500, capacity: Int = 100_000) {
        self.high = high
        self.low = low
        self.capacity = capacity
    }

    /// A message arrived from the bus.
    func admit(now: ContinuousClock.Instant = .now) -> Admission {
        state.withLock { state in
            guard state.waiting < capacity else {
                state.dropped += 1
                state.unrecorded += 1
                if let last = state.lastReport, now - last < .seconds(1) { return .dropped(report: nil) }
                defer { state.dropped = 0 }
                state.lastReport = now
                return .dropped(report: state.dropped)
            }
            state.waiting += 1
            guard state.waiting >= high, !state.paused else { return .queued }
            state.paused = true
            return .queuedAndPause
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

    /// How many messages were dropped since the last call, when any were:
    /// for the event log, where `homerules events` shows them.
    func takeUnrecordedDrops() -> Int? {
        state.withLock { state in
            defer { state.unrecorded = 0 }
            return state.unrecorded > 0 ? state.unrecorded : nil
        }
    }
}
