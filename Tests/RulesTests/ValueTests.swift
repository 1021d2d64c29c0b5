import Foundation
import MQTTTopics
import Testing
@testable import Rules

@Suite("Durations, times, cron, JSON paths, topics, templates", .timeLimit(.minutes(5))) struct ValueTests {
    @Test(arguments: [
        ("30s", 30.0), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("2d", 172_800), ("1.5s", 1.5), ("90", 90),
        ("10min", 600), ("1h 5m", 3900),
    ])
    func durations(text: String, seconds: Double) {
        #expect(DurationSyntax.parse(text)?.timeInterval == seconds)
    }

    @Test(arguments: ["", "30x", "s", "-5s", "5 m s", "1h-5m", "abc", "1e300", "4000d", "inf"])
    func badDurations(text: String) {
        #expect(DurationSyntax.parse(text) == nil)
    }

    @Test func spokenDurations() {
        #expect(Formatting.duration(seconds: 12) == "12 s")
        #expect(Formatting.duration(seconds: 0.25) == "0.3 s")
        #expect(Formatting.duration(seconds: 125) == "2 min 5 s")
        #expect(Formatting.duration(seconds: 5400) == "1 h 30 min")
        #expect(Formatting.duration(seconds: 90_000) == "1 d 1 h")
        #expect(Formatting.number(28) == "28")
        #expect(Formatting.number(-0.25) == "-0.25")
    }

    @Test func timesOfDayAndWeekdays() {
        #expect(TimeOfDay(parsing: "07:30")?.description == "07:30")
        #expect(TimeOfDay(parsing: "7:05:09")?.description == "07:05:09")
        #expect(TimeOfDay(parsing: "24:00") == nil)
        #expect(TimeOfDay(parsing: "12:60") == nil)
        #expect(TimeOfDay(parsing: "noon") == nil)
        #expect(Weekday(parsing: "Mon") == .monday)
        #expect(Weekday(parsing: "sunday") == .sunday)
        #expect(Weekday(parsing: "mo") == nil)
    }

    func next(_ cron: String, after date: Date) throws -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        return Schedule.cron(try CronExpression(parsing: cron)).nextFire(after: date, calendar: calendar)
    }

    @Test func cronNextFire() throws {
        // testStart is Monday 2025-03-03 08:00 UTC.
        #expect(try next("*/15 * * * *", after: testStart) == testStart.addingTimeInterval(900))
        #expect(try next("0 7 * * mon-fri", after: testStart) == testStart.addingTimeInterval(86_400 - 3600))
        #expect(try next("30 6 * * sat,sun", after: testStart) == testStart.addingTimeInterval(5 * 86_400 - 5400))
        #expect(try next("0 0 1 * *", after: testStart) == Date(timeIntervalSince1970: 1_743_465_600))  // 2025-04-01
        #expect(try next("@daily", after: testStart) == testStart.addingTimeInterval(16 * 3600))
        // Both day fields restricted: either matches (Sunday the 9th comes before the 15th).
        #expect(try next("0 12 15 * 0", after: testStart) == Date(timeIntervalSince1970: 1_741_521_600))
        #expect(try next("0 0 30 2 *", after: testStart) == nil)
    }

    @Test(arguments: [
        ("* * * *", "a cron expression has 5 fields (minute hour day month weekday), found 4"),
        ("60 * * * *", "'60' is not a valid minute (0-59)"),
        ("* * * * funday", "'funday' is not a valid weekday (0-7)"),
        ("5-1 * * * *", "the minute range '5-1' runs backwards"),
        ("*/0 * * * *", "'0' is not a valid step in the minute field"),
    ])
    func cronErrors(text: String, message: String) {
        #expect(throws: CronExpression.SyntaxError.self) { try CronExpression(parsing: text) }
        do {
            _ = try CronExpression(parsing: text)
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func jsonPaths() throws {
        let document = try #require(JSONValue(payload: Array(#"{"a":{"b":[10,{"c":true}]},"t":21.5,"s":"x"}"#.utf8)))
        #expect(JSONPath("t")?.value(in: document) == .number(21.5))
        #expect(JSONPath("a.b[0]")?.value(in: document) == .number(10))
        #expect(JSONPath("a.b[1].c")?.value(in: document) == .bool(true))
        #expect(JSONPath("a.b[2]")?.value(in: document) == nil)
        #expect(JSONPath("s.x")?.value(in: document) == nil)
        for bad in ["", ".a", "a..b", "a[", "a[x]", "a[-1]", "a]"] { #expect(JSONPath(bad) == nil, "\(bad)") }
    }

    @Test func topicFilters() throws {
        let cases: [(String, String, Bool)] = [
            ("home/+/temperature", "home/kitchen/temperature", true),
            ("home/+/temperature", "home/kitchen/humidity", false),
            ("home/#", "home", true),
            ("home/#", "home/a/b/c", true),
            ("#", "$SYS/broker/uptime", false),
            ("+/broker/uptime", "$SYS/broker/uptime", false),
            ("$SYS/#", "$SYS/broker/uptime", true),
            ("a/+", "a/", true),
            ("a/+", "a", false),
        ]
        var trie = TopicTrie<String>()
        for (filter, _, _) in cases { trie.insert(filter, for: try TopicFilter(filter)) }
        for (filter, topic, expected) in cases {
            #expect(try TopicFilter(filter).matches(topic) == expected, "\(filter) vs \(topic)")
            #expect(trie.values(matching: topic).contains(filter) == expected, "trie: \(filter) vs \(topic)")
        }
        for bad in ["", "a/#/b", "a+", "a/b#", "a\tb"] { #expect((try? TopicFilter(bad)) == nil, "\(bad)") }
    }

    @Test func templates() throws {
        let template = try Template(parsing: "{{ device.name }} is at {{trigger.value}}°C!")
        #expect(template.variables == [["device", "name"], ["trigger", "value"]])
        #expect(template.render { $0 == ["device", "name"] ? "Node" : nil } == "Node is at °C!")
        #expect(throws: TemplateSyntaxError(message: "'{{' is not closed by '}}'")) { try Template(parsing: "a {{ b") }
        #expect(throws: TemplateSyntaxError(message: "'{{ }}' names no variable")) { try Template(parsing: "{{ }}") }
        #expect(throws: TemplateSyntaxError(message: "'a b' is not a variable name: write a dotted name such as trigger.value")) {
            try Template(parsing: "{{ a b }}")
        }
    }

    @Test func suggestions() {
        #expect(Suggestion.closest(to: "abve", among: ["above", "below"]) == "above")
        #expect(Suggestion.closest(to: "temprature", among: ["temperature", "humidity"]) == "temperature")
        #expect(Suggestion.closest(to: "xyz", among: ["above", "below"]) == nil)
    }
}
