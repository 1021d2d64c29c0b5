import EventLog
import Foundation
import GRDB
import TestSupport
import Testing

/// Ids are unique forever, a writer that did not finish is noticed, and the
/// log refuses files that are not its own, with errors that say what to do.
@Suite("Event log across restarts, kills and foreign files", .timeLimit(.minutes(5)))
struct EventLogRestartTests {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func idsHandedOutByAWriterThatNeverFinishedAreNeverReused() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("homerules.sqlite").path
        let first = try EventWriter(database: try EventDatabase.openForWriting(path: path), flushInterval: .milliseconds(1))
        let loop = Task { await first.run() }
        let written = await first.record(Event(time: start, kind: .message, topic: "a", payload: "written"))
        let reader = try EventDatabase.openReadOnly(path: path)
        #expect(try await waitFor { try reader.event(id: written) != nil })
        first.finish()
        await loop.value

        // The second run is killed: its ids were handed out (published, cited) and never written.
        let killed = try EventWriter(database: try EventDatabase.openForWriting(path: path))
        let cited = killed.reserveID()
        let queued = await killed.record(Event(time: start, kind: .ruleFired, rule: "r", cause: cited))
        #expect([cited, queued] == [written + 1, written + 2])

        let restarted = try EventWriter(database: try EventDatabase.openForWriting(path: path))
        guard case .unclean(let lost?) = restarted.previousRun else {
            Issue.record("expected an unclean stop with lost ids, got \(restarted.previousRun)")
            return
        }
        #expect(lost.lowerBound == written + 1 && lost.contains(queued))
        #expect(restarted.reserveID() > lost.upperBound)
        let database = try EventDatabase.openReadOnly(path: path)
        #expect(try database.wasLost(eventID: cited) && database.wasLost(eventID: queued))
        #expect(try !database.wasLost(eventID: written))
    }

    @Test func theReservationInTheFileStaysAheadOfTheIdsHandedOut() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("homerules.sqlite").path
        let writer = try EventWriter(
            database: try EventDatabase.openForWriting(path: path), flushInterval: .milliseconds(1), idReservation: 10)
        let loop = Task { await writer.run() }
        var last: Int64 = 0
        for index in 0..<35 { last = await writer.record(Event(time: start, kind: .message, payload: "\(index)")) }
        // Handed out for messages still being handled, not yet recorded.
        let pending = (0..<3).map { _ in writer.reserveID() }
        // One connection for all the polls: opening and closing one each time contends for SQLite's locks.
        let reader = try DatabaseQueue(path: path)
        #expect(try await waitFor { try Self.reservation(in: reader) >= pending.last! })
        #expect(try await waitFor { try reader.read { db in try Event.fetchCount(db) } == 35 })

        // Killed now (the loop is never finished): the next writer starts above all of them.
        let restarted = try EventWriter(database: try EventDatabase.openForWriting(path: path))
        #expect(restarted.reserveID() > pending.last!)
        #expect(last == 35)
        writer.finish()
        await loop.value
    }

    @Test func aCleanFinishIsNotReportedAndIdsContinueWithoutAGap() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("homerules.sqlite").path
        let first = try EventWriter(database: try EventDatabase.openForWriting(path: path))
        #expect(first.previousRun == .none)
        let loop = Task { await first.run() }
        await first.record(Event(time: start, kind: .reload))
        first.finish()
        await loop.value
        let second = try EventWriter(database: try EventDatabase.openForWriting(path: path))
        #expect(second.previousRun == .clean)
        #expect(second.reserveID() == 2)
    }

    @Test func anotherApplicationsDatabaseIsRefusedAndLeftAsItWas() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("app.sqlite").path
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('jake')")
        }
        #expect(throws: EventLogError.notAnEventLog(path, tables: ["users"])) {
            try EventDatabase.openForWriting(path: path)
        }
        #expect(throws: EventLogError.notAnEventLog(path, tables: ["users"])) {
            try EventDatabase.openReadOnly(path: path)
        }
        let (tables, journal) = try DatabaseQueue(path: path).read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(tables == ["users"] && journal == "delete")
        #expect(EventLogError.notAnEventLog(path, tables: ["users"]).description == """
            \(path) is an SQLite database but not a HomeRules event log (it holds the tables users); \
            HomeRules will not add its tables to it: give --database another file
            """)
    }

    @Test func aLogWrittenBeforeItWasMarkedIsStillRecognised() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("homerules.sqlite").path
        try await Self.writeOneEvent(to: path)
        try await DatabaseQueue(path: path).writeWithoutTransaction { db in try db.execute(sql: "PRAGMA application_id = 0") }
        try await Self.writeOneEvent(to: path)
        #expect(try EventDatabase.openReadOnly(path: path).countEvents(after: 0) == 2)
    }

    @Test func aFileThatIsNotADatabaseGetsAnErrorSayingWhatToDo() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("homerules.sqlite").path
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect(throws: EventLogError.unusable(
            path, problem: "not an SQLite database, or an encrypted one",
            advice: "give --database another file, or move this one away to start a new log")
        ) {
            try EventDatabase.openForWriting(path: path)
        }
    }

    @Test func aDamagedLogGetsAnErrorSayingWhatToDo() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("homerules.sqlite").path
        try await Self.writeOneEvent(to: path)
        // Garbage over the schema's page, after the 100-byte file header.
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try file.seek(toOffset: 100)
        try file.write(contentsOf: Data(repeating: 0xFF, count: 3000))
        try file.close()
        do {
            _ = try EventDatabase.openForWriting(path: path)
            Issue.record("a damaged log was opened")
        } catch let error as EventLogError {
            guard case .unusable(_, let problem, let advice) = error else {
                Issue.record("expected .unusable, got \(error)")
                return
            }
            #expect(problem.hasPrefix("the database is damaged"))
            #expect(advice.contains(".recover"))
        }
    }

    private static func writeOneEvent(to path: String) async throws {
        let writer = try EventWriter(database: try EventDatabase.openForWriting(path: path))
        let loop = Task { await writer.run() }
        await writer.record(Event(time: Date(), kind: .reload))
        writer.finish()
        await loop.value
    }

    private static func reservation(in reader: DatabaseQueue) throws -> Int64 {
        try reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT reservedThrough FROM writerState") ?? 0
        }
    }
}
