import GRDB

/// How an SQLite file is recognised as a HomeRules event log, so that the
/// daemon never adds its tables to someone else's database.
///
/// A log carries SQLite's `application_id`; a log written before it did is
/// recognised by its first migration and its `event` table, and gets the id.
enum EventLogFile {
    /// `HRlg`, in the header of every event log.
    static let applicationID: Int32 = 0x4852_6C67

    enum Identity: Equatable {
        /// No tables at all: a new file, or an empty one.
        case empty
        case eventLog
        /// An event log from before `application_id` was set.
        case unmarkedEventLog
        /// Someone else's database, with its tables (or another application's id).
        case other(tables: [String], applicationID: Int32)
    }

    static func identify(_ db: Database) throws -> Identity {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if applicationID == Self.applicationID { return .eventLog }
        let tables = try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name
            """)
        guard applicationID == 0 else { return .other(tables: tables, applicationID: applicationID) }
        if tables.isEmpty { return .empty }
        if tables.contains("event"), tables.contains("grdb_migrations"),
           try Bool.fetchOne(db, sql: "SELECT 1 FROM grdb_migrations WHERE identifier = ?", arguments: [Schema.firstMigration]) == true {
            return .unmarkedEventLog
        }
        return .other(tables: tables, applicationID: applicationID)
    }

    /// Marks a file that is, or is becoming, an event log.
    static func mark(_ db: Database) throws {
        try db.execute(sql: "PRAGMA application_id = \(applicationID)")
    }
}
