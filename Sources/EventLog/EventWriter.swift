import Foundation
import Logging

/// Writes the event log in batches: one transaction per batch, by count or
/// by time, from a bounded queue.
///
/// When the queue is full, `record` and `update` wait for the writer
/// (backpressure) instead of growing memory or dropping entries. A batch that
/// fails is retried with backoff; one that still fails is reported in the
/// log and counted in `failedEntries`, never dropped in silence. `run()`
/// returns after `finish()` once every queued entry is written.
public actor EventWriter {
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
    private var pending: [LogEntry] = []
    private var lastID: Int64
    private var waitingProducers: [CheckedContinuation<Void, Never>] = []
    private var waitingWriter: CheckedContinuation<Void, Never>?
    private var isFinishing = false

    /// Entries written so far.
    public private(set) var writtenEntries = 0
    /// Entries lost after every retry failed (each loss is also logged).
    public private(set) var failedEntries = 0

    public init(
        database: EventDatabase, batchSize: Int = 1000, flushInterval: Duration = .milliseconds(50),
        capacity: Int = 10_000, maximumPayloadLength: Int = 1024, logger: Logger = Logger(label: "homerules.eventlog")
    ) throws {
        self.database = database
        self.batchSize = max(1, batchSize)
        self.flushInterval = flushInterval
        self.capacity = max(1, capacity)
        self.maximumPayloadLength = maximumPayloadLength
        self.logger = logger
        self.lastID = try database.lastEventID()
    }

    /// Queues an event and returns its id, for the events it causes to cite.
    /// An event with id 0 gets the next id; any other id must come from
    /// `reserveID()`.
    @discardableResult
    public func record(_ event: Event) async -> Int64 {
        await waitForRoom()
        var event = event.truncatingPayload(to: maximumPayloadLength)
        if event.id == 0 { event.id = reserveID() }
        enqueue(.event(event))
        return event.id
    }

    /// Takes the next id for an event recorded later, so that what it causes
    /// can cite it first.
    public func reserveID() -> Int64 {
        lastID += 1
        return lastID
    }

    /// Queues a change of device state.
    public func update(_ entry: LogEntry) async {
        await waitForRoom()
        enqueue(entry)
    }

    /// Entries queued and not yet written.
    public var backlog: Int { pending.count }

    /// Asks `run()` to write what is queued and return.
    public func finish() {
        isFinishing = true
        wakeWriter()
    }

    /// The writer loop; run it as a task or service.
    public func run() async {
        while true {
            if pending.isEmpty {
                if isFinishing { return }
                await withCheckedContinuation { waitingWriter = $0 }
                continue
            }
            if pending.count < batchSize && !isFinishing {
                try? await Task.sleep(for: flushInterval)
            }
            let count = min(batchSize, pending.count)
            let batch = Array(pending.prefix(count))
            pending.removeFirst(count)
            resumeProducers()
            await write(batch)
        }
    }

    private func write(_ batch: [LogEntry]) async {
        var delay = Duration.milliseconds(50)
        for attempt in 1...5 {
            do {
                try await database.write(batch)
                writtenEntries += batch.count
                return
            } catch {
                logger.warning("event log write failed (attempt \(attempt) of 5), retrying: \(error)")
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
        failedEntries += batch.count
        logger.error("event log: \(batch.count) entries could not be written to \(database.path) and are lost")
    }

    private func waitForRoom() async {
        while pending.count >= capacity && !isFinishing {
            await withCheckedContinuation { waitingProducers.append($0) }
        }
    }

    private func enqueue(_ entry: LogEntry) {
        pending.append(entry)
        if pending.count >= batchSize || pending.count == 1 { wakeWriter() }
    }

    private func wakeWriter() {
        waitingWriter?.resume()
        waitingWriter = nil
    }

    private func resumeProducers() {
        let room = capacity - pending.count
        guard room > 0, !waitingProducers.isEmpty else { return }
        let resumed = waitingProducers.prefix(room)
        waitingProducers.removeFirst(resumed.count)
        for producer in resumed { producer.resume() }
    }
}
