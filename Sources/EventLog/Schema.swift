import GRDB

/// Every migration of the event log, in order. Add new ones at the end;
/// never edit one that has shipped.
enum Schema {
    /// The identifier of the first migration, by which a log written before
    /// `EventLogFile.applicationID` is recognised.
    static let firstMigration = "v1: events and device state"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(firstMigration) { db in
            try db.create(table: "event") { table in
                table.primaryKey("id", .integer)
                table.column("time", .datetime).notNull()
                table.column("kind", .text).notNull()
                table.column("device", .text)
                table.column("entity", .text)
                table.column("topic", .text)
                table.column("payload", .text)
                table.column("rule", .text)
                table.column("detail", .text)
                // No foreign key: retention may purge a cause before its effects.
                table.column("cause", .integer)
            }
            try db.create(index: "event_on_time", on: "event", columns: ["time"])
            try db.create(index: "event_on_device", on: "event", columns: ["device", "time"])
            try db.create(index: "event_on_rule", on: "event", columns: ["rule", "time"])
            try db.create(index: "event_on_kind", on: "event", columns: ["kind", "time"])

            try db.create(table: "deviceState") { table in
                table.primaryKey("device", .text)
                table.column("presence", .text)
                table.column("presenceSince", .datetime)
                table.column("lastSeen", .datetime)
            }
            try db.create(table: "entityState") { table in
                table.column("device", .text).notNull()
                table.column("entity", .text).notNull()
                table.column("role", .text).notNull()
                table.column("value", .text).notNull()
                table.column("updatedAt", .datetime).notNull()
                table.primaryKey(["device", "entity", "role"])
            }
        }
        migrator.registerMigration("v2: daemon state") { db in
            // Opaque values the daemon saves across restarts (the rule
            // engine's snapshot), one row per key.
            try db.create(table: "daemonState") { table in
                table.primaryKey("key", .text)
                table.column("value", .blob).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v3: event id reservations and unclean stops") { db in
            // One row, kept by the writer: every id up to `reservedThrough`
            // may have been handed out, so a restart starts above it;
            // `running` is true from a writer's start to its clean finish.
            try db.create(table: "writerState") { table in
                table.primaryKey("id", .integer).check { $0 == 1 }
                table.column("reservedThrough", .integer).notNull()
                table.column("running", .boolean).notNull()
                table.column("startedAt", .datetime).notNull()
            }
            // Ids that a writer which did not finish may have handed out
            // (published, or cited as a cause) and never written.
            try db.create(table: "lostEvents") { table in
                table.column("first", .integer).notNull()
                table.column("last", .integer).notNull()
                table.column("detectedAt", .datetime).notNull()
            }
        }
        return migrator
    }
}
