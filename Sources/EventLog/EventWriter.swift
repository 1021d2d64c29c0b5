import Foundation
import Logging
import Synchronization

/// Writes the event log in batches: one transaction per batch, by count or
/// by time, from a bounded queue.
///
/// Queueing is a lock and an append, so that logging stays off the path from
/// a sensor's message to the actuator's command. When the queue is full,
/// `record` and `update` wait for the writer (backpressure) instead of
/// growing memory or dropping entries. A batch that fails is retried with
/// backoff; one that still fails is reported in the log and counted in
/// `failedEntries`, never dropped in silence. `run()` returns after
/// `finish()` once every queued entry is written.
public final class EventWriter: Sendable {
    /// How many entries go into one transaction at most.
    public let batchSize: Int
    /// How long a partial batch may wait for company.
    public let flushInterval: Duration
    /// Queued entries beyond which producers wait.
    public let capacity: Int
    /// Payloads are cut to this many UTF-8 bytes.
    public let maximumPayloadLength: Int

    private let database: EventDatabase
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var pending: [LogEntry] = []
        var lastID: Int64
        var waitingProducers: [CheckedContinuation<Void, Never>] = []
        var waitingWriter: CheckedContinuation<Void, Never>?
        var isFinishing = false
        var writtenEntries = 0
        var failedEntries = 0
    }

    public init(
        database: EventDatabase, batchSize: Int = 1000, flushInterval: Duration = .milliseconds(10),
        capacity: Int = 10_000, maximumPayloadLength: Int = 1024, logger: Logger = Logger(label: "homerules.eventlog")
    ) throws {
        self.database = database
        self.batchSize = max(1, batchSize)
        self.flushInterval = flushInterval
        self.capacity = max(1, capacity)
        self.maximumPayloadLength = maximumPayloadLength
        self.logger = logger
        self.state = Mutex(State(lastID: try database.lastEventID()))
    }

    /// Entries written so far.
    public var writtenEntries: Int { state.withLock { $0.writtenEntries } }
    /// Entries lost after every retry failed (each loss is also logged).
    public var failedEntries: Int { state.withLock { $0.failedEntries } }
    /// Entries queued and not yet written.
    public var backlog: Int { state.withLock { $0.pending.count } }

    /// Queues an event and returns its id, for the events it causes to cite.
    /// An event with id 0 gets the next id; any other id must come from
    /// `reserveID()`.
    @discardableResult
    public nonisolated(nonsending) func record(_ event: Event) async -> Int64 {
        var event = event.truncatingPayload(to: maximumPayloadLength)
        var id = event.id
        await enqueue {
            if event.id == 0 {
                $0.lastID += 1
                event.id = $0.lastID
            }
            id = event.id
            return .event(event)
        }
        return id
    }

    /// Queues a change of device state.
    public nonisolated(nonsending) func update(_ entry: LogEntry) async {
        await enqueue { _ in entry }
    }

    /// Takes the next id for an event recorded later, so that what it causes
    /// can cite it first.
    public func reserveID() -> Int64 {
        state.withLock {
            $0.lastID += 1
            return $0.lastID
        }
    }

    /// Asks `run()` to write what is queued and return.
    public func finish() {
        let (writer, producers) = state.withLock { state in
            state.isFinishing = true
            defer {
                state.waitingWriter = nil
                state.waitingProducers = []
            }
            return (state.waitingWriter, state.waitingProducers)
        }
        writer?.resume()
        producers.forEach { $0.resume() }
    }

    /// The writer loop; run it as a task or service.
    public func run() async {
        while let batch = await nextBatch() {
            await write(batch)
        }
    }

    // MARK: Queue

    /// Appends the entry `make` builds (under the lock, so ids follow queue
    /// order), waiting while the queue is full.
    private nonisolated(nonsending) func enqueue(_ make: (inout State) -> LogEntry) async {
        while true {
            let (queued, writer): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
                guard state.pending.count < capacity || state.isFinishing else { return (false, nil) }
                state.pending.append(make(&state))
                guard state.pending.count == 1 || state.pending.count >= batchSize else { return (true, nil) }
                defer { state.waitingWriter = nil }
                return (true, state.waitingWriter)
            }
            writer?.resume()
            if queued { return }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    guard state.pending.count >= capacity && !state.isFinishing else { return true }
                    state.waitingProducers.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// The next batch to write, or nil when finishing and nothing is left.
    private func nextBatch() async -> [LogEntry]? {
        while true {
            let (hasWork, finishing) = state.withLock { ($0.pending.isEmpty == false, $0.isFinishing) }
            if !hasWork {
                if finishing { return nil }
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state in
                        guard state.pending.isEmpty && !state.isFinishing else { return true }
                        state.waitingWriter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
                continue
            }
            if !finishing && backlog < batchSize {
                try? await Task.sleep(for: flushInterval)
            }
            let (batch, producers) = state.withLock { state in
                let count = min(batchSize, state.pending.count)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                let room = capacity - state.pending.count
                let resumed = Array(state.waitingProducers.prefix(max(0, room)))
                state.waitingProducers.removeFirst(resumed.count)
                return (batch, resumed)
            }
            producers.forEach { $0.resume() }
            return batch
        }
    }

    private func write(_ batch: [LogEntry]) async {
        var delay = Duration.milliseconds(50)
        for attempt in 1...5 {
            do {
                try await database.write(batch)
                state.withLock { $0.writtenEntries += batch.count }
                return
            } catch {
                logger.warning("event log write failed (attempt \(attempt) of 5), retrying: \(error)")
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
        state.withLock { $0.failedEntries += batch.count }
        logger.error("event log: \(batch.count) entries could not be written to \(database.path) and are lost")
    }
}
