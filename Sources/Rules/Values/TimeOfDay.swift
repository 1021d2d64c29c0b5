import Foundation

/// A wall-clock time such as `07:30` or `22:15:30`, in the engine's time zone.
public struct TimeOfDay: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// Seconds since midnight, 0..<86400.
    public var secondsSinceMidnight: Int

    public init?(hour: Int, minute: Int, second: Int = 0) {
        guard (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second) else { return nil }
        secondsSinceMidnight = hour * 3600 + minute * 60 + second
    }

    /// Reads `HH:MM` or `HH:MM:SS`.
    public init?(parsing text: String) {
        let fields = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2 || fields.count == 3,
              fields.allSatisfy({ !$0.isEmpty && $0.count <= 2 && $0.allSatisfy(\.isASCII) }),
              let hour = Int(fields[0]), let minute = Int(fields[1])
        else { return nil }
        let second = fields.count == 3 ? Int(fields[2]) : 0
        guard let second, let time = TimeOfDay(hour: hour, minute: minute, second: second) else { return nil }
        self = time
    }

    public var hour: Int { secondsSinceMidnight / 3600 }
    public var minute: Int { secondsSinceMidnight % 3600 / 60 }
    public var second: Int { secondsSinceMidnight % 60 }

    /// The time of day of `date` in `calendar`'s time zone.
    init(of date: Date, in calendar: Calendar) {
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        secondsSinceMidnight = (parts.hour ?? 0) * 3600 + (parts.minute ?? 0) * 60 + (parts.second ?? 0)
    }

    /// `07:30`, or `07:30:15` when the seconds matter.
    public var description: String {
        let base = Formatting.twoDigits(hour) + ":" + Formatting.twoDigits(minute)
        return second == 0 ? base : base + ":" + Formatting.twoDigits(second)
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool {
        lhs.secondsSinceMidnight < rhs.secondsSinceMidnight
    }

    static let help = "write a time of day as HH:MM or HH:MM:SS, like 07:30"
}

/// A day of the week, numbered as Foundation's Calendar does (1 is Sunday).
public enum Weekday: Int, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case sunday = 1, monday, tuesday, wednesday, thursday, friday, saturday

    /// Reads `mon`, `monday`, `Mon`, ...
    public init?(parsing text: String) {
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard lowered.count >= 3,
              let day = Weekday.allCases.first(where: { $0.name.hasPrefix(lowered) && (lowered.count == 3 || lowered == $0.name) })
        else { return nil }
        self = day
    }

    /// The full English name in lower case.
    public var name: String {
        switch self {
        case .sunday: "sunday"
        case .monday: "monday"
        case .tuesday: "tuesday"
        case .wednesday: "wednesday"
        case .thursday: "thursday"
        case .friday: "friday"
        case .saturday: "saturday"
        }
    }

    /// 0 for Monday through 6 for Sunday, for listing days the way people read a week.
    var mondayFirstIndex: Int { (rawValue + 5) % 7 }

    /// The three-letter name, as in `mon`.
    public var description: String { String(name.prefix(3)) }

    /// The weekday of `date` in `calendar`'s time zone.
    init(of date: Date, in calendar: Calendar) {
        self = Weekday(rawValue: calendar.component(.weekday, from: date)) ?? .sunday
    }

    static let help = "use mon, tue, wed, thu, fri, sat or sun"
}

/// A condition on the clock: after a time, before a time, on some weekdays.
///
/// When `after` is later than `before`, the window spans midnight: `after:
/// "22:00", before: "06:00"` holds from 22:00 until 06:00 the next morning.
/// `weekdays` is checked against the current day. A bound may be the sun's
/// event of the day (`after: sunset`), which needs a location.
public struct TimeWindow: Sendable, Hashable, Codable, CustomStringConvertible {
    public var after: TimeBound?
    public var before: TimeBound?
    public var weekdays: Set<Weekday>?

    public init(after: TimeBound? = nil, before: TimeBound? = nil, weekdays: Set<Weekday>? = nil) {
        self.after = after
        self.before = before
        self.weekdays = weekdays
    }

    public init(after: TimeOfDay?, before: TimeOfDay? = nil, weekdays: Set<Weekday>? = nil) {
        self.init(after: after.map(TimeBound.clock), before: before.map(TimeBound.clock), weekdays: weekdays)
    }

    /// Whether a bound is the sun's, and so needs a location.
    public var followsTheSun: Bool {
        [after, before].contains { if case .sun? = $0 { true } else { false } }
    }

    /// Whether `date` lies in the window. A sun bound on a day without that
    /// event: in polar day the sun is up all day, so `after: sunrise` and
    /// `before: sunset` hold and the others do not; in polar night the
    /// reverse. Without a location a sun bound never holds.
    public func contains(_ date: Date, calendar: Calendar, location: GeoLocation? = nil) -> Bool {
        if let weekdays, !weekdays.contains(Weekday(of: date, in: calendar)) { return false }
        let time = TimeOfDay(of: date, in: calendar)
        let sunDay = followsTheSun ? location.map { SunCalculator.day(containing: date, at: $0, calendar: calendar) } : nil
        func resolve(_ bound: TimeBound?, isAfter: Bool) -> TimeBound.Resolved {
            bound?.resolved(sunDay: sunDay, calendar: calendar, isAfter: isAfter) ?? .always
        }
        switch (resolve(after, isAfter: true), resolve(before, isAfter: false)) {
        case (.never, _), (_, .never): return false
        case (.always, .always): return true
        case (.time(let after), .always): return time >= after
        case (.always, .time(let before)): return time < before
        case (.time(let after), .time(let before)):
            return after <= before ? (time >= after && time < before) : (time >= after || time < before)
        }
    }

    /// `after 22:00 and before 06:00 on mon, tue`.
    public var description: String {
        var parts: [String] = []
        if let after { parts.append("after \(after)") }
        if let before { parts.append("before \(before)") }
        var text = parts.joined(separator: " and ")
        if let weekdays {
            let days = weekdays.sorted { $0.mondayFirstIndex < $1.mondayFirstIndex }.map(\.description).joined(separator: ", ")
            text += text.isEmpty ? "on \(days)" : " on \(days)"
        }
        return text
    }
}

/// One end of a ``TimeWindow``: a time on the clock, or the sun's event of the day.
public enum TimeBound: Sendable, Hashable, Codable, CustomStringConvertible {
    case clock(TimeOfDay)
    case sun(SunEvent)

    /// A bound as it applies on one day.
    enum Resolved {
        case time(TimeOfDay)
        /// Holds all day (no bound).
        case always
        /// Holds at no time of the day.
        case never
    }

    /// `sunDay`: the sun's day at the home, nil without a location.
    func resolved(sunDay: SunCalculator.Day?, calendar: Calendar, isAfter: Bool) -> Resolved {
        switch self {
        case .clock(let time):
            return .time(time)
        case .sun(let event):
            guard let sunDay else { return .never }
            switch sunDay {
            case .risesAndSets(let sunrise, let sunset):
                return .time(TimeOfDay(of: event == .sunrise ? sunrise : sunset, in: calendar))
            case .polarDay:
                // The sun is up: "after sunrise" and "before sunset" hold.
                return (isAfter && event == .sunrise) || (!isAfter && event == .sunset) ? .always : .never
            case .polarNight:
                return (isAfter && event == .sunset) || (!isAfter && event == .sunrise) ? .always : .never
            }
        }
    }

    public var description: String {
        switch self {
        case .clock(let time): time.description
        case .sun(let event): event.rawValue
        }
    }
}
