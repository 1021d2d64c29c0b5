import Foundation

/// When a time trigger fires: at fixed times every day, or on a cron schedule.
public enum Schedule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `at: "07:30"` or `at: ["07:30", "19:00"]`.
    case daily([TimeOfDay])
    /// `cron: "*/15 6-22 * * mon-fri"`.
    case cron(CronExpression)
    /// `sun: sunset, offset: -30m`: the moment of the sun's event each day,
    /// moved by the offset (at most 12 h either way).
    case sun(SunEvent, offset: Duration)

    /// Whether it follows the sun, and so needs a location.
    public var followsTheSun: Bool {
        if case .sun = self { true } else { false }
    }

    /// The largest offset from a sun event.
    public static let maximumSunOffset = Duration.seconds(12 * 3600)

    /// The first firing strictly after `date`, or nil when there is none in
    /// the next few years (a cron for February 30th, a sunset in a polar
    /// day that lasts, a sun schedule without a `location`).
    public func nextFire(after date: Date, calendar: Calendar, location: GeoLocation? = nil) -> Date? {
        switch self {
        case .sun(let event, let offset):
            guard let location else { return nil }
            // The day whose event, moved by the offset, may still come after `date`.
            var day = calendar.startOfDay(for: date.addingTimeInterval(-offset.timeInterval - 86_400))
            for _ in 0..<(366 * 2) {
                if let moment = SunCalculator.time(of: event, onDayContaining: day, at: location, calendar: calendar) {
                    let candidate = moment.addingTimeInterval(offset.timeInterval)
                    if candidate > date { return candidate }
                }
                guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
                day = next
            }
            return nil
        case .daily(let times):
            return Self.walkDays(after: date, calendar: calendar, times: times.map(\.secondsSinceMidnight).sorted()) { _ in true }
        case .cron(let cron):
            return Self.walkDays(after: date, calendar: calendar, times: cron.secondsOfDay) { cron.matchesDay($0) }
        }
    }

    public var description: String {
        switch self {
        case .daily(let times): "at " + times.map(\.description).joined(separator: ", ")
        case .cron(let cron): "cron '\(cron.expression)'"
        case .sun(let event, let offset):
            offset == .zero ? "at \(event.rawValue)"
                : "\((offset < .zero ? .zero - offset : offset).spoken) \(offset < .zero ? "before" : "after") \(event.rawValue)"
        }
    }

    /// Walks day by day from `date`, returning the first time of a matching
    /// day that is later than `date`.
    private static func walkDays(
        after date: Date, calendar: Calendar, times: [Int], dayMatches: (DateComponents) -> Bool
    ) -> Date? {
        guard !times.isEmpty else { return nil }
        var day = calendar.startOfDay(for: date)
        for _ in 0..<(366 * 5) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if dayMatches(parts) {
                for seconds in times {
                    var moment = parts
                    moment.weekday = nil
                    (moment.hour, moment.minute, moment.second) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
                    if let candidate = calendar.date(from: moment), candidate > date { return candidate }
                }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = next
        }
        return nil
    }
}

/// A five-field cron expression (minute hour day-of-month month day-of-week)
/// with `*`, lists, ranges, steps and names (`jan`, `mon`), plus `@hourly`,
/// `@daily`, `@weekly`, `@monthly` and `@yearly`.
///
/// As in Vixie cron, when both day fields are restricted a day matches if
/// either does.
public struct CronExpression: Sendable, Hashable, Codable {
    public var expression: String
    var minutes: Set<Int>
    var hours: Set<Int>
    var daysOfMonth: Set<Int>?
    var months: Set<Int>?
    /// 1 is Sunday, as in Calendar.
    var weekdays: Set<Int>?

    /// The problem with a cron expression, to show the user.
    struct SyntaxError: Error {
        var message: String
    }

    private static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
        "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    init(parsing text: String) throws(SyntaxError) {
        expression = text
        let expanded = Self.macros[text.trimmingCharacters(in: .whitespaces).lowercased()] ?? text
        let fields = expanded.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw SyntaxError(message: "a cron expression has 5 fields (minute hour day month weekday), found \(fields.count)")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59)
        hours = try Self.field(fields[1], name: "hour", range: 0...23)
        daysOfMonth = fields[2] == "*" ? nil : try Self.field(fields[2], name: "day of month", range: 1...31)
        months = fields[3] == "*" ? nil : try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames, firstName: 1)
        if fields[4] == "*" {
            weekdays = nil
        } else {
            // Cron counts Sunday as 0 or 7; Calendar counts it as 1.
            let days = try Self.field(fields[4], name: "weekday", range: 0...7, names: Self.dayNames, firstName: 0)
            weekdays = Set(days.map { $0 % 7 + 1 })
        }
    }

    /// The firing times within a matching day, ascending.
    var secondsOfDay: [Int] {
        hours.sorted().flatMap { hour in minutes.sorted().map { hour * 3600 + $0 * 60 } }
    }

    func matchesDay(_ day: DateComponents) -> Bool {
        if let months, let month = day.month, !months.contains(month) { return false }
        let dayOfMonthMatches = daysOfMonth.map { day.day.map($0.contains) ?? false }
        let weekdayMatches = weekdays.map { day.weekday.map($0.contains) ?? false }
        switch (dayOfMonthMatches, weekdayMatches) {
        case (nil, nil): return true
        case (let only?, nil), (nil, let only?): return only
        case (let a?, let b?): return a || b
        }
    }

    private static func field(
        _ text: String, name: String, range: ClosedRange<Int>, names: [String] = [], firstName: Int = 0
    ) throws(SyntaxError) -> Set<Int> {
        func value(_ token: Substring) throws(SyntaxError) -> Int {
            if let number = Int(token), range.contains(number) { return number }
            if let index = names.firstIndex(of: token.lowercased()) { return index + firstName }
            throw SyntaxError(message: "'\(token)' is not a valid \(name) (\(range.lowerBound)-\(range.upperBound))")
        }
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else {
                throw SyntaxError(message: "'\(part)' is not a valid \(name) field")
            }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else {
                    throw SyntaxError(message: "'\(pieces[1])' is not a valid step in the \(name) field")
                }
                step = parsed
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                let low = try value(pieces[0][..<dash]), high = try value(pieces[0][pieces[0].index(after: dash)...])
                guard low <= high else { throw SyntaxError(message: "the \(name) range '\(pieces[0])' runs backwards") }
                bounds = low...high
            } else {
                let single = try value(pieces[0])
                bounds = pieces.count == 2 ? single...range.upperBound : single...single
            }
            result.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return result
    }
}
