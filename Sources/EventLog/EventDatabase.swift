import Foundation
import GRDB

/// The SQLite file of the event log, in WAL mode so that the CLI reads while
/// the daemon writes.
public struct EventDatabase: Sendable {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) and migrates the database, for the daemon.
    /// Refuses an SQLite file that is not an event log before writing to it;
    /// a file that cannot be used gets an `EventLogError` saying what to do.
    public static func openForWriting(path: String) throws -> EventDatabase {
        do {
            try refuseOtherDatabases(at: path)
            let pool = try DatabasePool(path: path, configuration: writingConfiguration())
            try Schema.migrator.migrate(pool)
            try pool.writeWithoutTransaction(EventLogFile.mark)
            return EventDatabase(pool: pool, path: path)
        } catch {
            throw EventLogError.describing(error, path: path)
        }
    }

    private static func writingConfiguration() -> Configuration {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // Only takes effect on a new file; lets retention give pages back.
            guard !db.configuration.readonly else { return }
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
            // WAL with NORMAL: a power cut may lose the last batch, never the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // A reader's checkpoint or the sqlite3 shell may hold the lock briefly.
        configuration.busyMode = .timeout(2)
        return configuration
    }

    /// Looks at an existing file read-only, before the pool switches it to
    /// WAL or the migrator adds tables: someone else's database is left as
    /// it was.
    private static func refuseOtherDatabases(at path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        var configuration = Configuration()
        configuration.readonly = true
        let identity = try DatabaseQueue(path: path, configuration: configuration).read(EventLogFile.identify)
        if case .other(let tables, _) = identity { throw EventLogError.notAnEventLog(path, tables: tables) }
    }

    /// Opens an existing database read-only, for the CLI beside a running daemon.
    public static func openReadOnly(path: String) throws -> EventDatabase {
        guard FileManager.default.fileExists(atPath: path) else { throw EventLogError.missingDatabase(path) }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(2)
            let pool = try DatabasePool(path: path, configuration: configuration)
            switch try pool.read(EventLogFile.identify) {
            case .eventLog, .unmarkedEventLog: return EventDatabase(pool: pool, path: path)
            case .empty: throw EventLogError.notAnEventLog(path, tables: [])
            case .other(let tables, _): throw EventLogError.notAnEventLog(path, tables: tables)
            }
        } catch {
            throw EventLogError.describing(error, path: path)
        }
    }

    /// Writes entries in one transaction, with cached statements and dates
    /// formatted by `EventTime`: GRDB's record encoding is several times
    /// slower, and this runs for every event. GRDB runs it on its own writer
    /// queue, never on a thread of Swift's task pool.
    func write(_ entries: [LogEntry], reservingIDsThrough reservation: Int64? = nil) async throws {
        try await pool.write { db in
            if let reservation { try Self.reserveIDs(through: reservation, in: db) }
            for entry in entries {
                switch entry {
                case .event(let event):
                    try db.cachedStatement(sql: """
                        INSERT INTO event (id, time, kind, device, entity, topic, payload, rule, detail, cause)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """).execute(arguments: [
                            event.id, EventTime.databaseText(event.time), event.kind.rawValue, event.device, event.entity,
                            event.topic, event.payload, event.rule, event.detail, event.cause,
                        ])
                case .presence(let device, let state, let since):
                    try db.cachedStatement(sql: """
                        INSERT INTO deviceState (device, presence, presenceSince) VALUES (?, ?, ?)
                        ON CONFLICT(device) DO UPDATE SET presence = excluded.presence, presenceSince = excluded.presenceSince
                        """).execute(arguments: [device, state, EventTime.databaseText(since)])
                case .seen(let device, let time):
                    try db.cachedStatement(sql: """
                        INSERT INTO deviceState (device, lastSeen) VALUES (?, ?)
                        ON CONFLICT(device) DO UPDATE SET lastSeen = excluded.lastSeen
                        """).execute(arguments: [device, EventTime.databaseText(time)])
                case .entity(let record):
                    try db.cachedStatement(sql: """
                        INSERT INTO entityState (device, entity, role, value, updatedAt) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(device, entity, role) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
                        """).execute(arguments: [
                            record.device, record.entity, record.role.rawValue, record.value, EventTime.databaseText(record.updatedAt),
                        ])
                case .state(let key, let value, let time):
                    try db.cachedStatement(sql: """
                        INSERT INTO daemonState (key, value, updatedAt) VALUES (?, ?, ?)
                        ON CONFLICT(key) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
                        """).execute(arguments: [key, value, EventTime.databaseText(time)])
                case .purge(let cutoff):
                    try db.execute(sql: "DELETE FROM event WHERE time < ?", arguments: [EventTime.databaseText(cutoff)])
                }
            }
        }
        if entries.contains(where: \.isPurge) {
            try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA incremental_vacuum") }
        }
    }

    /// The value saved under `key`, if any.
    public func stateValue(forKey key: String) throws -> Data? {
        try pool.read { db in try Data.fetchOne(db, sql: "SELECT value FROM daemonState WHERE key = ?", arguments: [key]) }
    }
}

/// One change for the writer to apply.
public enum LogEntry: Sendable {
    case event(Event)
    case presence(device: String, state: String, since: Date)
    case seen(device: String, at: Date)
    case entity(EntityStateRecord)
    /// Saves an opaque value under a key, replacing the previous one.
    case state(key: String, value: Data, at: Date)
    /// Deletes events older than the date (retention).
    case purge(before: Date)

    var isPurge: Bool {
        if case .purge = self { true } else { false }
    }
}
