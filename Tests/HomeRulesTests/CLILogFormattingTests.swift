import EventLog
import Foundation
import TestSupport
import Testing

@testable import homerules

@Suite("CLI log formatting: durations, --since, tables", .timeLimit(.minutes(5)))
struct CLILogFormattingTests {
    static let durations: [(Double, String)] = [
        (0, "0 s"), (59.9, "59 s"), (60, "1 min"), (3599, "59 min"), (3600, "1 h"), (3660, "1 h 1 min"),
        (3 * 3600 + 59, "3 h"), (86_400, "1 d"), (90_000, "1 d 1 h"), (86_400 + 60, "1 d"), (-5, "0 s"),
    ]

    @Test(arguments: durations)
    func durationsAreShortAndRoundedDown(seconds: Double, text: String) {
        #expect(TimeText.duration(seconds: seconds) == text)
    }

    @Test func timesAreClockTimesTodayAndDatesOtherwise() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let now = Date(timeIntervalSince1970: 1_740_863_020)  // 2025-03-01 21:03:40 UTC
        let time = TimeText(now: now, timeZone: utc)
        #expect(time.moment(now.addingTimeInterval(-3600)) == "20:03:40")
        #expect(time.moment(now.addingTimeInterval(-86_400)) == "2025-02-28 21:03:40")
        #expect(time.shortMoment(now.addingTimeInterval(-60)) == "21:02")
        #expect(time.shortMoment(now.addingTimeInterval(-22 * 3600)) == "2025-02-28 23:03")
        #expect(time.timestamp(now) == "2025-03-01 21:03:40")
        #expect(time.ago(now.addingTimeInterval(-12.5)) == "12 s ago")
        #expect(time.ago(now.addingTimeInterval(30)) == "just now")
        let tokyo = TimeText(now: now, timeZone: try #require(TimeZone(identifier: "Asia/Tokyo")))
        #expect(tokyo.moment(now) == "06:03:40")
        #expect(tokyo.timestamp(now) == "2025-03-02 06:03:40")
    }

    static let sinceDurations: [(String, Double)] = [
        ("30s", 30), ("15m", 900), ("15min", 900), ("1h", 3600), ("2d", 172_800), ("1h30m", 5400), ("1.5h", 5400), ("1w", 604_800),
    ]

    @Test(arguments: sinceDurations)
    func sinceTakesDurations(text: String, seconds: Double) throws {
        #expect(try SinceArgument(parsing: text) == .ago(seconds: seconds))
    }

    @Test func sinceTakesDatesWithAZoneOrInLocalTime() throws {
        let zone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let utcMoment = Date(timeIntervalSince1970: 1_740_863_020)  // 2025-03-01 21:03:40 UTC, 22:03:40 in Berlin
        #expect(try SinceArgument(parsing: "2025-03-01T21:03:40Z", timeZone: zone) == .moment(utcMoment))
        #expect(try SinceArgument(parsing: "2025-03-01T22:03:40+01:00", timeZone: zone) == .moment(utcMoment))
        #expect(try SinceArgument(parsing: "2025-03-01T22:03:40", timeZone: zone) == .moment(utcMoment))
        #expect(try SinceArgument(parsing: "2025-03-01 22:03:40", timeZone: zone) == .moment(utcMoment))
        #expect(try SinceArgument(parsing: "2025-03-01T22:03", timeZone: zone) == .moment(utcMoment.addingTimeInterval(-40)))
        #expect(try SinceArgument(parsing: "2025-03-01", timeZone: zone) == .moment(Date(timeIntervalSince1970: 1_740_783_600)))
    }

    @Test(arguments: ["", "30", "h", "1x", "1h 30m", "-1h", "yesterday", "2025-13-01", "2025-03-01T25:00", "99999d"])
    func sinceRefusesAnythingElse(text: String) {
        #expect(throws: SinceArgument.Invalid.self) { try SinceArgument(parsing: text) }
    }

    @Test(arguments: [
        ("-1h", "write how long ago without a sign: --since 1h means 1h ago"),
        ("99999999999d", "'99999999999d' reaches back more than 3650 days; leave --since out to see every event"),
        ("soon", "'soon' is neither a duration (30s, 15m, 1h, 2d, 1h30m) nor a date (2026-11-27, 2026-11-27T21:00, 2026-11-27T21:00:00Z)"),
    ])
    func sinceSaysWhatIsWrong(text: String, message: String) {
        #expect(throws: SinceArgument.Invalid(text: text)) { try SinceArgument(parsing: text) }
        #expect(SinceArgument.Invalid(text: text).description == message)
    }

    @Test(arguments: [
        (["events", "--since", "-1h"], "Error: The value '-1h' is invalid for '--since <time>': write how long ago without a sign"),
        (["set", "x.y", "on", "--timeout", "-5s"], "Error: The value '-5s' is invalid for '--timeout <duration>': a duration cannot be negative"),
        (["set", "x.y", "on", "--timeout", "0s"], "Error: The value '0s' is invalid for '--timeout <duration>': a duration must be longer than 0"),
        (["simulate", "--interval", "fast"], "Error: The value 'fast' is invalid for '--interval <duration>': write a number and a unit"),
    ])
    func aNegativeOrMalformedTimeIsExplainedNotTakenForAnOption(arguments: [String], message: String) async throws {
        let directory = try TemporaryDirectory()
        let result = try await HomeRulesBinary.run(arguments, in: directory.path)
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix(message), "\(result.stderr)")
    }

    @Test func aDatabaseThatIsADirectoryIsCalledOne() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("log"), withIntermediateDirectories: true)
        let result = try await HomeRulesBinary.run(["events", "--database", "log"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr == "error: log: a directory, not a database file; give --database a file, such as log/homerules.sqlite\n")
    }

    @Test func tablesAlignColumnsWithoutTrailingBlanks() {
        let table = TextTable(header: ["DEVICE", "STATE"], rows: [["livingroom-node", "online"], ["plug", ""]])
        #expect(table.rendered() == "DEVICE           STATE\nlivingroom-node  online\nplug\n")
        #expect(TextTable(header: ["A"]).rendered() == "")
    }

    @Test func anEventStaysOnOneLineWhateverItsPayload() {
        let event = Event(time: Date(), kind: .message, device: "node", topic: "home/node/json", payload: "{\n  \"a\": 1\r\n}")
        #expect(EventText.summary(event) == "home/node/json = {\\n  \"a\": 1\\n}")
        let empty = Event(time: Date(), kind: .message, topic: "home/node/clear", payload: "")
        #expect(EventText.summary(empty) == "home/node/clear = \"\"")
        #expect(EventText.subject(empty) == "–")
    }
}
