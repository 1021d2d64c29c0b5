import Foundation
import GRDB

/// How the last writer of the log ended.
public enum PreviousRun: Sendable, Equatable {
    /// A new log, or one from before writers kept their state.
    case none
    case clean
    /// The last writer did not finish (killed, crashed, or the power went):
    /// the entries it had queued are lost. `lostIDs` are the event ids it may
    /// have handed out (published, or cited as causes) and never written.
    case unclean(lostIDs: ClosedRange<Int64>?)
}

/// Where a writer starts: above every id any writer may have handed out.
struct WriterStart {
    var lastID: Int64
    /// Ids up to this one are reserved in the file for the new writer.
    var reservedThrough: Int64
    var previousRun: PreviousRun
}

extension EventDatabase {
    /// Starts a writer: tells how the last one ended (recording the ids it
    /// lost), continues above every id it may have handed out, and reserves
    /// `block` ids in the file before any is handed out.
    func beginWriting(reserving block: Int64, at now: Date) throws -> WriterStart {
        try pool.write { db in
            let written = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM event") ?? 0
            let row = try Row.fetchOne(db, sql: "SELECT reservedThrough, running FROM writerState WHERE id = 1")
            let reserved: Int64 = row?["reservedThrough"] ?? 0
            var previousRun = PreviousRun.none
            if let row {
                if row["running"] as Bool {
                    let lost = reserved > written ? (written + 1)...reserved : nil
                    if let lost {
                        try db.execute(
                            sql: "INSERT INTO lostEvents (first, last, detectedAt) VALUES (?, ?, ?)",
                            arguments: [lost.lowerBound, lost.upperBound, EventTime.databaseText(now)])
                    }
                    previousRun = .unclean(lostIDs: lost)
                } else {
                    previousRun = .clean
                }
            }
            let lastID = max(written, reserved)
            try db.execute(sql: """
                INSERT INTO writerState (id, reservedThrough, running, startedAt) VALUES (1, ?, 1, ?)
                ON CONFLICT(id) DO UPDATE SET reservedThrough = excluded.reservedThrough, running = 1, startedAt = excluded.startedAt
                """, arguments: [lastID + block, EventTime.databaseText(now)])
            return WriterStart(lastID: lastID, reservedThrough: lastID + block, previousRun: previousRun)
        }
    }

    /// Reserves ids up to `id` for the running writer (in the transaction of a batch).
    static func reserveIDs(through id: Int64, in db: Database) throws {
        try db.execute(sql: "UPDATE writerState SET reservedThrough = ? WHERE id = 1", arguments: [id])
    }

    /// A clean finish: every entry is written, and the next writer continues
    /// right after `lastID`, the last id handed out.
    func endWriting(lastID: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE writerState SET running = 0, reservedThrough = ? WHERE id = 1", arguments: [lastID])
        }
    }

    /// Whether event `id` was handed out by a writer that did not finish and
    /// never written: a cause that was lost, not one that retention purged.
    public func wasLost(eventID id: Int64) throws -> Bool {
        try pool.read { db in
            guard try db.tableExists("lostEvents") else { return false }
            return try Bool.fetchOne(db, sql: "SELECT 1 FROM lostEvents WHERE ? BETWEEN first AND last", arguments: [id]) ?? false
        }
    }
}
