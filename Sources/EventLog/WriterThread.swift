import Foundation
import Synchronization

/// The one thread that writes the log: SQLite's blocking inserts and
/// commits never hold one of the few threads that run Swift tasks.
///
/// It runs at the normal priority on purpose: when the writer's queue is
/// full the rules wait for it (backpressure), so a writer starved by a lower
/// priority would hold the rules back behind every other busy process, a
/// priority inversion. It starts with the first job and ends with `stop()`
/// or when the `WriterThread` goes away.
final class WriterThread: Sendable {
    private let name: String
    private let jobs = Jobs()

    init(name: String) {
        self.name = name
    }

    deinit {
        jobs.stop()
    }

    /// Runs `body` on the thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job: @Sendable () -> Void = { continuation.resume(with: Result(catching: body)) }
            if jobs.submit(job) { start() }
        }
    }

    /// Ends the thread once the jobs submitted before have run.
    func stop() {
        jobs.stop()
    }

    private func start() {
        let jobs = self.jobs
        let thread = Thread { jobs.work() }
        thread.name = name
        thread.start()
    }

    /// The queue between callers and the thread.
    private final class Jobs: Sendable {
        private struct Queue {
            var jobs: [@Sendable () -> Void] = []
            var isStarted = false
            var isStopping = false
        }

        private let queue = Mutex(Queue())
        private let ready = DispatchSemaphore(value: 0)

        /// Queues a job; true when the thread must be started for it.
        func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
            let first = queue.withLock { queue in
                queue.jobs.append(job)
                defer { queue.isStarted = true }
                return !queue.isStarted
            }
            ready.signal()
            return first
        }

        func stop() {
            queue.withLock { $0.isStopping = true }
            ready.signal()
        }

        /// The thread's loop: runs jobs in order until stopped and empty.
        func work() {
            while true {
                ready.wait()
                let (batch, stopping) = queue.withLock { queue in
                    defer { queue.jobs.removeAll() }
                    return (queue.jobs, queue.isStopping)
                }
                for job in batch { job() }
                if stopping, queue.withLock({ $0.jobs.isEmpty }) { return }
            }
        }
    }
}
