import ArgumentParser
import EventLog
import Foundation

/// `homerules events`: the event log, filtered, oldest first.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the event log: messages, presence changes, rule decisions, actions.",
        discussion: """
            Prints the latest events that match every filter given, oldest first, one per line. \
            Reads the log read-only, so it works while the daemon runs.
            """
    )

    @Option(help: ArgumentHelp("Only events about this device.", valueName: "device"))
    var device: String?

    @Option(help: ArgumentHelp("Only events of this rule: its decisions and actions.", valueName: "rule"))
    var rule: String?

    @Option(help: ArgumentHelp("Only events of this kind (repeatable).", valueName: "kind"))
    var kind: [EventKind] = []

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Only events from this long ago (30s, 15m, 1h, 2d) or this date (2026-11-27, 2026-11-27T21:00, 2026-11-27T21:00:00Z) on.",
            valueName: "time"),
        transform: { try SinceArgument(parsing: $0) })
    var since: SinceArgument?

    @Option(help: "Print at most this many events: the latest ones.")
    var limit = 50

    @Flag(help: "Print one JSON object per line, for scripts.")
    var json = false

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let now = Date()
        let filter = EventFilter(device: device, rule: rule, kinds: kind, since: since?.date(now: now), limit: limit)
        let events = try database.read { try $0.events(filter) }
        if json {
            for event in events { print(String(decoding: event.json(), as: UTF8.self)) }
        } else if events.isEmpty {
            print("No events match.")
        } else {
            print(Self.lines(events, time: TimeText(now: now)), terminator: "")
        }
    }

    /// Time, kind, subject and summary in aligned columns.
    static func lines(_ events: [Event], time: TimeText) -> String {
        TextTable(rows: events.map { event in
            [time.timestamp(event.time), event.kind.rawValue, EventText.subject(event), EventText.summary(event)]
        }).rendered()
    }
}

extension EventKind: ExpressibleByArgument {}
