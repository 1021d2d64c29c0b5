import Foundation

/// The value of `--since`: a duration back from now (`30s`, `15m`, `1h`,
/// `2d`, `1h30m`) or a moment (`2026-11-27`, `2026-11-27T21:00`,
/// `2026-11-27 21:00:00`, `2026-11-27T21:00:00Z`). Dates without a time
/// zone are local time.
enum SinceArgument: Equatable {
    case ago(seconds: Double)
    case moment(Date)

    struct Invalid: Error, CustomStringConvertible, Equatable {
        var text: String
        var description: String {
            if text.hasPrefix("-") {
                return "write how long ago without a sign: --since \(text.dropFirst()) means \(text.dropFirst()) ago"
            }
            if Self.isDuration(text) {
                return "'\(text)' reaches back more than \(SinceArgument.longestDurationDays) days; leave --since out to see every event"
            }
            return "'\(text)' is neither a duration (30s, 15m, 1h, 2d, 1h30m) nor a date (2026-11-27, 2026-11-27T21:00, 2026-11-27T21:00:00Z)"
        }

        private static func isDuration(_ text: String) -> Bool {
            SinceArgument.durationSeconds(text, limit: .infinity) != nil
        }
    }

    /// Ten years back is already before any event log.
    static let longestDurationDays = 3650

    private static let unitSeconds: [Substring: Double] = ["s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// Parses the text, or throws a message that says what is accepted.
    init(parsing text: String, timeZone: TimeZone = .current) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Self.durationSeconds(trimmed) {
            self = .ago(seconds: seconds)
        } else if let date = Self.date(trimmed, timeZone: timeZone) {
            self = .moment(date)
        } else {
            throw Invalid(text: text)
        }
    }

    /// The earliest time to show.
    func date(now: Date) -> Date {
        switch self {
        case .ago(let seconds): now.addingTimeInterval(-seconds)
        case .moment(let date): date
        }
    }

    /// `1h30m` as 5400: numbers each followed by a unit, no bare numbers
    /// (is `--since 30` seconds or days?).
    private static func durationSeconds(_ text: String, limit: Double = Double(longestDurationDays) * 86_400) -> Double? {
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            let unit = rest.dropFirst(digits.count).prefix { $0.isLetter }
            guard let value = Double(digits), let seconds = unitSeconds[unit] else { return nil }
            total += value * seconds
            rest = rest.dropFirst(digits.count + unit.count)
        }
        return total <= limit ? total : nil
    }

    private static func date(_ text: String, timeZone: TimeZone) -> Date? {
        for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
            if let date = try? style.parse(text) { return date }
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.isLenient = false
        let localFormats = [
            "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd",
        ]
        for format in localFormats {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
