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
///
/// Event ids are never reused, even after a kill -9: ids are handed out
/// before their events are written (so that effects can cite causes and
/// events can be published at once), so the writer reserves them in the
/// file ahead of use, in blocks of `idReservation`, and a new writer starts
/// above the reservation of the last one. A writer that did not finish is
/// noticed by the next one (`previousRun`), which records the ids it lost.
public final class EventWriter: Sendable {
    /// How many entries go into one transaction at most.
    public let batchSize: Int
    /// How long a partial batch may wait for company.
    public let flushInterval: Duration
    /// Queued entries beyond which producers wait.
    public let capacity: Int
    /// Payloads are cut to this many UTF-8 bytes.
    public let maximumPayloadLength: Int
    /// How many ids are reserved in the file at a time; it must exceed the
    /// ids that can be handed out between two batches (`capacity` and a batch).
    public let idReservation: Int64
    /// How the writer before this one ended.
    public let previousRun: PreviousRun

    private let database: EventDatabase
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var pending: [LogEntry] = []
        /// The last id handed out.
        var lastID: Int64
        /// Ids up to this one are reserved in the file.
        var reservedThrough: Int64
        /// The reservation the next batch writes, when it must grow.
        var wantedReservation: Int64?
        var waitingProducers: [CheckedContinuation<Void, Never>] = []
        var waitingWriter: CheckedContinuation<Void, Never>?
        var isFinishing = false
        var writtenEntries = 0
        var failedEntries = 0
    }

    public init(
        database: EventDatabase, batchSize: Int = 1000, flushInterval: Duration = .milliseconds(10),
        capacity: Int = 10_000, maximumPayloadLength: Int = 1024, idReservation: Int64 = 100_000,
        logger: Logger = Logger(label: "homerules.eventlog")
    ) throws {
        self.database = database
        self.batchSize = max(1, batchSize)
        self.flushInterval = flushInterval
        self.capacity = max(1, capacity)
        self.maximumPayloadLength = maximumPayloadLength
        self.idReservation = max(2, idReservation)
        self.logger = logger
        let start: WriterStart
        do {
            start = try database.beginWriting(reserving: self.idReservation, at: Date())
        } catch {
            throw EventLogError.describing(error, path: database.path)
        }
        previousRun = start.previousRun
        state = Mutex(State(lastID: start.lastID, reservedThrough: start.reservedThrough))
    }

    /// At most this many queued entries are lost when the process is killed
    /// (the queue, and the batch being written).
    public var maximumLostOnKill: Int { capacity + batchSize }

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
            if event.id == 0 { event.id = nextID(&$0) }
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
        let (id, writer): (Int64, CheckedContinuation<Void, Never>?) = state.withLock { state in
            let id = nextID(&state)
            // Only a grown reservation needs the writer woken; entries wake it themselves.
            guard state.wantedReservation != nil, state.pending.isEmpty else { return (id, nil) }
            defer { state.waitingWriter = nil }
            return (id, state.waitingWriter)
        }
        writer?.resume()
        return id
    }

    /// The next id; asks for a larger reservation once half of the current
    /// one is used, long before it runs out.
    private func nextID(_ state: inout State) -> Int64 {
        state.lastID += 1
        let target = state.wantedReservation ?? state.reservedThrough
        if state.lastID + idReservation / 2 > target {
            state.wantedReservation = state.lastID + idReservation
        }
        if state.lastID > state.reservedThrough {
            // Only when the file has refused writes for longer than the queue lasts.
            logger.warning("event id \(state.lastID) handed out beyond the reservation in the file (\(state.reservedThrough))")
        }
        return state.lastID
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

    /// The writer loop; run it as a task or service. Returns after
    /// `finish()`, once everything queued is written and the finish is
    /// recorded as clean.
    public func run() async {
        while let (batch, reservation) = await nextBatch() {
            await write(batch, reservingIDsThrough: reservation)
        }
        let lastID = state.withLock { $0.lastID }
        do {
            try await database.endWriting(lastID: lastID)
        } catch {
            logger.error("event log: could not record the clean finish; the next start will report an unclean stop: \(describe(error))")
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

    /// The next batch to write with the reservation to write in its
    /// transaction, or nil when finishing and nothing is left.
    private func nextBatch() async -> (entries: [LogEntry], reservation: Int64?)? {
        while true {
            let (hasWork, finishing) = state.withLock { (!$0.pending.isEmpty || $0.wantedReservation != nil, $0.isFinishing) }
            if !hasWork {
                if finishing { return nil }
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state in
                        guard state.pending.isEmpty && state.wantedReservation == nil && !state.isFinishing else { return true }
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
            let (batch, reservation, producers) = state.withLock { state in
                let count = min(batchSize, state.pending.count)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                let room = capacity - state.pending.count
                let resumed = Array(state.waitingProducers.prefix(max(0, room)))
                state.waitingProducers.removeFirst(resumed.count)
                return (batch, state.wantedReservation, resumed)
            }
            producers.forEach { $0.resume() }
            return (batch, reservation)
        }
    }

    private func write(_ batch: [LogEntry], reservingIDsThrough reservation: Int64?) async {
        var delay = Duration.milliseconds(50)
        var problem = ""
        for attempt in 1...5 {
            do {
                try await database.write(batch, reservingIDsThrough: reservation)
                state.withLock { state in
                    state.writtenEntries += batch.count
                    guard let reservation else { return }
                    state.reservedThrough = max(state.reservedThrough, reservation)
                    if state.wantedReservation == reservation { state.wantedReservation = nil }
                }
                return
            } catch {
                problem = describe(error)
                logger.warning("event log write failed (attempt \(attempt) of 5), retrying: \(problem)")
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
        state.withLock { $0.failedEntries += batch.count }
        logger.error("event log: \(batch.count) entries could not be written and are lost: \(problem)")
    }

    private func describe(_ error: any Error) -> String {
        EventLogError.describing(error, path: database.path).description
    }
}
