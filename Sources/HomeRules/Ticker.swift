import Foundation

/// Sends `.tick` when the engine's next deadline comes: one sleeping task,
/// replaced when the deadline moves.
final class Ticker {
    private let continuation: AsyncStream<Daemon.Input>.Continuation
    private var deadline: Date?
    private var task: Task<Void, Never>?

    init(continuation: AsyncStream<Daemon.Input>.Continuation) {
        self.continuation = continuation
    }

    func schedule(at newDeadline: Date?) {
        guard newDeadline != deadline else { return }
        task?.cancel()
        deadline = newDeadline
        guard let newDeadline else { return }
        let continuation = self.continuation
        task = Task {
            // Rounded up: waking a moment early would find nothing due.
            let delay = max(0, newDeadline.timeIntervalSinceNow)
            try? await Task.sleep(for: .milliseconds(Int64((delay * 1000).rounded(.up)) + 1))
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
