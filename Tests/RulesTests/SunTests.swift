import Foundation
import Testing
@testable import Rules

@Suite("The sun's times, computed locally", .timeLimit(.minutes(5)))
struct SunTests {
    /// Published sunrise and sunset times (local clock, to the minute), as
    /// almanacs and weather services print them.
    static let published: [(place: String, latitude: Double, longitude: Double, zone: String, date: String, sunrise: String, sunset: String)] = [
        ("London, midsummer", 51.5074, -0.1278, "Europe/London", "2025-06-21", "04:43", "21:21"),
        ("London, midwinter", 51.5074, -0.1278, "Europe/London", "2025-12-21", "08:04", "15:53"),
        ("New York", 40.7128, -74.0060, "America/New_York", "2025-12-21", "07:17", "16:32"),
        ("Sydney", -33.8688, 151.2093, "Australia/Sydney", "2025-12-21", "05:41", "20:05"),
        ("Tokyo, equinox", 35.6762, 139.6503, "Asia/Tokyo", "2025-03-20", "05:46", "17:53"),
    ]

    static func calendar(_ zone: String) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        return calendar
    }

    static func moment(_ date: String, _ time: String, _ calendar: Calendar) -> Date {
        let day = date.split(separator: "-").map { Int($0)! }, clock = time.split(separator: ":").map { Int($0)! }
        return calendar.date(from: DateComponents(year: day[0], month: day[1], day: day[2], hour: clock[0], minute: clock[1]))!
    }

    @Test(arguments: published.indices)
    func sunriseAndSunsetAreWithinAMinuteOfPublishedTables(index: Int) throws {
        let place = Self.published[index]
        let calendar = Self.calendar(place.zone)
        let location = try #require(GeoLocation(latitude: place.latitude, longitude: place.longitude))
        let day = SunCalculator.day(containing: Self.moment(place.date, "10:00", calendar), at: location, calendar: calendar)
        guard case .risesAndSets(let sunrise, let sunset) = day else { Issue.record("\(place.place): \(day)"); return }
        // A table's minute is the moment rounded: within a minute of it means within 90 s of the minute's start.
        #expect(abs(sunrise.timeIntervalSince(Self.moment(place.date, place.sunrise, calendar))) <= 90, "\(place.place) sunrise \(sunrise)")
        #expect(abs(sunset.timeIntervalSince(Self.moment(place.date, place.sunset, calendar))) <= 90, "\(place.place) sunset \(sunset)")
    }

    @Test func beyondThePolarCirclesTheSunStaysUpOrDown() throws {
        let tromso = try #require(GeoLocation(latitude: 69.6492, longitude: 18.9553))
        let calendar = Self.calendar("Europe/Oslo")
        #expect(SunCalculator.day(containing: Self.moment("2025-06-21", "12:00", calendar), at: tromso, calendar: calendar) == .polarDay)
        #expect(SunCalculator.day(containing: Self.moment("2025-12-21", "12:00", calendar), at: tromso, calendar: calendar) == .polarNight)
        #expect(SunCalculator.time(of: .sunset, onDayContaining: Self.moment("2025-06-21", "12:00", calendar), at: tromso, calendar: calendar) == nil)
        // Between the two: it rises and sets again.
        if case .risesAndSets = SunCalculator.day(containing: Self.moment("2025-03-20", "12:00", calendar), at: tromso, calendar: calendar) {
        } else {
            Issue.record("the equinox in Tromsø has a sunrise and a sunset")
        }
    }

    @Test func aLocationOutOfRangeIsRefused() {
        #expect(GeoLocation(latitude: 91, longitude: 0) == nil)
        #expect(GeoLocation(latitude: 0, longitude: -181) == nil)
        #expect(GeoLocation(latitude: -90, longitude: 180) != nil)
    }

    static let london = GeoLocation(latitude: 51.5074, longitude: -0.1278)!

    @Test func aSunTriggerFiresAtItsOffsetEveryDay() throws {
        var harness = try Harness(rules: """
            - id: dusk
              when: { sun: sunset, offset: -30m }
              then: [{ publish: { topic: lights, payload: "on at {{ now.time }}" } }]
            """, location: Self.london)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let sunset = try #require(SunCalculator.time(of: .sunset, onDayContaining: testStart, at: Self.london, calendar: calendar))
        let expected = sunset.addingTimeInterval(-1800)
        #expect(harness.engine.nextDeadline == expected)
        let day = harness.advance(86_400)
        #expect(day.published.count == 1)
        let shown = TimeOfDay(of: expected, in: calendar)
        #expect(day.reasons("dusk") == ["it is \(shown) (30 min before sunset)"])
        // The next evening's, a little later in March.
        let next = try #require(harness.engine.nextDeadline)
        #expect(next.timeIntervalSince(expected) > 86_400 && next.timeIntervalSince(expected) < 86_400 + 300)
    }

    @Test func withoutALocationASunTriggerNeverFires() throws {
        var harness = try Harness(rules: """
            - id: dusk
              when: { sun: sunset }
              then: [{ publish: { topic: lights, payload: "on" } }]
            """)
        #expect(harness.engine.nextDeadline == nil)
        #expect(harness.advance(2 * 86_400).published.isEmpty)
    }

    @Test func conditionsAfterSunsetAndBeforeSunrise() throws {
        var harness = try Harness(rules: """
            - id: evening-door
              when: { mqtt: door }
              if: [{ after: sunset }]
              then: [{ publish: { topic: hall, payload: "on" } }]
            """, location: Self.london)
        harness.advance(4 * 3600)  // 12:00 UTC
        #expect(harness.send("door", "open").published.isEmpty)
        harness.advance(7 * 3600)  // 19:00 UTC, after a March sunset in London
        #expect(harness.send("door", "open").published == ["hall on"])
    }

    @Test func beyondThePolarCirclesSunConditionsFollowTheSunBeingUpOrDown() throws {
        let tromso = try #require(GeoLocation(latitude: 69.6492, longitude: 18.9553))
        let calendar = Self.calendar("Europe/Oslo")
        let midsummer = Self.moment("2025-06-21", "02:00", calendar), midwinter = Self.moment("2025-12-21", "14:00", calendar)
        let sunUp = TimeWindow(after: .sun(.sunrise), before: .sun(.sunset)), sunDown = TimeWindow(after: .sun(.sunset))
        #expect(sunUp.contains(midsummer, calendar: calendar, location: tromso))
        #expect(!sunDown.contains(midsummer, calendar: calendar, location: tromso))
        #expect(!sunUp.contains(midwinter, calendar: calendar, location: tromso))
        #expect(sunDown.contains(midwinter, calendar: calendar, location: tromso))
        #expect(!sunDown.contains(midwinter, calendar: calendar, location: nil))
    }

    @Test(arguments: [
        ("when: { sun: sunsett }", "rules/rules.yaml:2:16: error: unknown sun event 'sunsett'; did you mean 'sunset'?"),
        ("when: { sun: sunset, offset: 13h }", "rules/rules.yaml:2:32: error: invalid offset '13h' for 'offset': write a duration, negative for before, like -30m or 1h, up to 12h"),
        ("when: { at: '07:00', offset: 1h }", "rules/rules.yaml:2:24: error: 'offset' does not apply to a time trigger"),
        ("when: { mqtt: t }\n  if: [{ after: sunrse }]", "rules/rules.yaml:3:17: error: invalid time 'sunrse' for 'after': write a time of day as HH:MM or HH:MM:SS, like 07:30, or sunrise or sunset"),
    ])
    func sunMistakesAreNamedWhereTheyAre(when: String, message: String) {
        let result = loadHome(rules: ["rules.yaml": "- id: r\n  \(when)\n  then: [{ publish: { topic: x, payload: y } }]\n"])
        guard case .failure(let errors) = result else { Issue.record("expected an error"); return }
        #expect(errors.diagnostics.map(\.description) == [message])
    }
}
