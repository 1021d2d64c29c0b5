import EventLog
import Foundation
import TestSupport
import Testing

@Suite("homerules events", .timeLimit(.minutes(5)))
struct EventsCommandTests {
    /// The events of a `--json` run, parsed back.
    private func parsed(_ result: ProcessResult) throws -> [Event] {
        try result.stdout.split(separator: "\n").map { try Event.fromJSON(Data($0.utf8)) }
    }

    private func json(_ home: CLILogHome, _ arguments: [String]) async throws -> [Event] {
        let result = try await home.homerules(["events", "--json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try parsed(result)
    }

    @Test func theLogIsPrintedOldestFirstOneLinePerEvent() async throws {
        let home = try await CLILogHome()
        let result = try await home.homerules(["events"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 17)
        #expect(lines.first == "2025-03-01 21:02:40  reload        –                            3 devices, 5 sensors, 2 actuators, 3 rules")
        #expect(lines.contains("2025-03-01 21:03:30  message       livingroom-node.temperature  home/livingroom-node/temperature = abc  (payload 'abc' is not a number)"))
        #expect(lines.contains("2025-03-01 21:04:10  rule_fired    hot-room-led                 temperature 29.5 is above 28 for 30 s"))
        #expect(lines.contains("2025-03-01 21:04:10  action        livingroom-node.led          home/livingroom-node/led/set = on  (set led on; rule hot-room-led)"))
        #expect(lines.contains("2025-03-01 21:05:20  presence      desk-plug                    offline  (announced 'Offline' on tele/desk-plug/LWT)"))
        #expect(lines.contains("2025-03-01 21:05:20  action        device-offline               home/alerts = Desk plug went offline  (publish)"))
        #expect(lines.last?.hasSuffix("  message       livingroom-node.temperature  home/livingroom-node/temperature = 25") == true)
    }

    @Test func jsonIsOneEventPerLineAsTheDaemonPublishesIt() async throws {
        let home = try await CLILogHome()
        let events = try await json(home, ["--limit", "100"])
        let stored = try EventDatabase.openReadOnly(path: home.databasePath).events(EventFilter(limit: 100))
        // JSON carries milliseconds, as the database does, but `Event.json()`
        // cuts digits off: a time stored as .830999… prints as .830.
        #expect(zip(events, stored).allSatisfy { abs($0.time.timeIntervalSince($1.time)) <= 0.0011 })
        func timeless(_ event: Event) -> Event { var event = event; event.time = .distantPast; return event }
        #expect(events.map(timeless) == stored.map(timeless))
        #expect(events.map(\.id) == Array(1...17))
        let action = try #require(events.first { $0.id == home.ids.ledAction })
        #expect(action.cause == home.ids.fired)
        #expect(action.payload == "on")
    }

    @Test func filtersByDeviceRuleAndKind() async throws {
        let home = try await CLILogHome()
        let desk = try await json(home, ["--device", "desk-plug"])
        #expect(desk.map(\.kind) == [.message, .presence])
        #expect(Set(desk.compactMap(\.device)) == ["desk-plug"])

        let rule = try await json(home, ["--rule", "hot-room-led"])
        #expect(rule.map(\.kind) == [.ruleSkipped, .ruleSkipped, .ruleFired, .action])

        let kinds = try await json(home, ["--kind", "rule_fired", "--kind", "action"])
        #expect(kinds.map(\.kind) == [.ruleFired, .action, .ruleFired, .action])

        let combined = try await json(home, ["--device", "livingroom-node", "--kind", "message"])
        #expect(combined.map(\.payload) == ["online", "27.5", "abc", "29.5", "on", "24", "25"])
    }

    @Test func limitKeepsTheLatestEventsOldestFirst() async throws {
        let home = try await CLILogHome()
        await #expect(try json(home, ["--limit", "3"]).map(\.id) == [15, 16, 17])
        await #expect(try json(home, ["--kind", "message", "--limit", "2"]).map(\.payload) == ["24", "25"])
        let lines = try await home.homerules(["events", "--limit", "1"]).stdout.split(separator: "\n")
        #expect(lines.count == 1)
    }

    @Test func sinceTakesADurationOrADate() async throws {
        let home = try await CLILogHome()
        await #expect(try json(home, ["--since", "1h"]).map(\.payload) == ["25"])
        await #expect(try json(home, ["--since", "30m"]).map(\.payload) == ["25"])
        await #expect(try json(home, ["--since", "3h"]).map(\.payload) == ["24", "25"])
        await #expect(try json(home, ["--since", "1h59m", "--kind", "message"]).count == 1)
        await #expect(try json(home, ["--since", "2d"]).count == 2)
        // An absolute date: with a zone, and in local time (UTC here).
        let fromTheFiring = try await json(home, ["--since", "2025-03-01T21:04:00Z"])
        #expect(fromTheFiring.first?.id == home.ids.fired)
        #expect(fromTheFiring.count == 17 - Int(home.ids.fired) + 1)
        await #expect(try json(home, ["--since", "2025-03-01 21:05"]).first?.id == home.ids.deskOffline - 1)
        await #expect(try json(home, ["--since", "2025-03-01"]).count == 17)
        await #expect(try json(home, ["--since", "2025-03-02"]).count == 2)
    }

    @Test func nothingMatchingSaysSoAndPrintsNoJSON() async throws {
        let home = try await CLILogHome()
        let result = try await home.homerules(["events", "--device", "attic"])
        #expect(result.status == 0)
        #expect(result.stdout == "No events match.\n")
        let json = try await home.homerules(["events", "--device", "attic", "--json"])
        #expect(json.status == 0)
        #expect(json.stdout == "")
    }

    @Test func badArgumentsAreRefusedWithTheAcceptedForms() async throws {
        let home = try await CLILogHome()
        let kind = try await home.homerules(["events", "--kind", "fired"])
        #expect(kind.status != 0)
        #expect(kind.stderr.contains("'fired' is invalid for '--kind <kind>'"))
        #expect(kind.stderr.contains("rule_fired"))

        let since = try await home.homerules(["events", "--since", "yesterday"])
        #expect(since.status != 0)
        #expect(since.stderr.contains("'yesterday' is neither a duration (30s, 15m, 1h, 2d, 1h30m) nor a date"))
        // A bare number has no unit: seconds or days?
        #expect(try await home.homerules(["events", "--since", "30"]).status != 0)

        let limit = try await home.homerules(["events", "--limit", "0"])
        #expect(limit.status != 0)
        #expect(limit.stderr.contains("--limit must be at least 1"))
        #expect(limit.stdout == "")
    }

    @Test func aMissingDatabaseIsAClearErrorWithExitStatus1() async throws {
        let directory = try TemporaryDirectory()
        let result = try await CLILogHome.homerules(["events"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == "error: homerules.sqlite: no such database (has `homerules serve` run here?)\n")
    }

    @Test func theDatabaseCanBeNamedFromAnotherDirectory() async throws {
        let home = try await CLILogHome()
        let elsewhere = try TemporaryDirectory()
        let result = try await CLILogHome.homerules(["events", "--database", home.databasePath, "--rule", "device-offline", "--json"], in: elsewhere.path)
        #expect(result.status == 0)
        #expect(try parsed(result).map(\.kind) == [.ruleFired, .action])
    }
}
