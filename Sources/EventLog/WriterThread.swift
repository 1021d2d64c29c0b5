import Foundation
import Synchronization

/// The one thread that writes the log, at a lower priority (nice 10): a
/// batch of inserts yields the processor to the rule that switches a light.
///
/// A thread of its own, because lowering the priority of a thread borrowed
/// from a pool (Dispatch's, Swift's tasks') would slow whatever runs on it
/// next. It starts with the first job and ends with `stop()` or when the
/// `WriterThread` goes away.
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
        let thread = Thread {
            #if os(Linux)
            // On Linux nice values are per thread, and 0 names the calling one.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            #endif
            jobs.work()
        }
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
