import Foundation
import Rules

/// Sends `.tick` when the engine's next deadline comes: one sleeping task,
/// replaced when the deadline moves.
///
/// Deadlines are monotonic instants, so setting the wall clock moves no
/// wait; a time trigger's instant follows the wall clock as it read when it
/// was asked, and the daemon asks again at every input (at least every few
/// seconds, with its maintenance), so a wall clock that jumped is noticed.
final class Ticker {
    private let continuation: AsyncStream<Daemon.Input>.Continuation
    private var deadline: MonotonicInstant?
    private var task: Task<Void, Never>?

    /// A deadline that moved by less than this keeps the sleeping task: the
    /// instant of a time trigger, recomputed from the two clocks at each
    /// input, moves by a few microseconds, and the wake-up's margin covers it.
    private static let tolerance: Int64 = 1_000_000

    init(continuation: AsyncStream<Daemon.Input>.Continuation) {
        self.continuation = continuation
    }

    func schedule(at newDeadline: MonotonicInstant?) {
        switch (deadline, newDeadline) {
        case (nil, nil): return
        case (let old?, let new?) where abs(old.nanoseconds - new.nanoseconds) <= Self.tolerance: return
        default: break
        }
        task?.cancel()
        deadline = newDeadline
        guard let newDeadline else { return }
        let continuation = self.continuation
        task = Task {
            // Rounded up, with a margin: waking a moment early would find nothing due.
            let delay = max(0, newDeadline.seconds(since: .now()))
            try? await Task.sleep(for: .milliseconds(Int64((delay * 1000).rounded(.up)) + 2))
            guard !Task.isCancelled else { return }
            continuation.yield(.tick)
        }
    }

    /// The tick was handled: whatever the next deadline, schedule it anew.
    func fired() {
        deadline = nil
    }

    func cancel() {
        task?.cancel()
    }
}
