import Foundation

/// How times read in output for people: local clock times, and short
/// durations relative to now.
///
/// Scripts get ISO 8601 in UTC from `--json` instead; these forms are for
/// eyes only.
struct TimeText {
    var now: Date
    var calendar: Calendar

    init(now: Date = Date(), timeZone: TimeZone = .current) {
        self.now = now
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// `2026-11-27 21:04:10`, for log lines that may span days.
    func timestamp(_ date: Date) -> String {
        calendarDate(date) + " " + clock(date, seconds: true)
    }

    /// `21:04:10` today, `2026-11-25 21:04:10` on another day.
    func moment(_ date: Date) -> String {
        isToday(date) ? clock(date, seconds: true) : timestamp(date)
    }

    /// `21:04` today, `2026-11-25 21:04` on another day.
    func shortMoment(_ date: Date) -> String {
        isToday(date) ? clock(date, seconds: false) : calendarDate(date) + " " + clock(date, seconds: false)
    }

    /// `12 s ago`, `5 min ago`, `3 h 5 min ago`; `just now` within a second
    /// (or for a date ahead of this machine's clock).
    func ago(_ date: Date) -> String {
        let seconds = now.timeIntervalSince(date)
        return seconds < 1 ? "just now" : Self.duration(seconds: seconds) + " ago"
    }

    /// The time from `date` to now: `12 s`, `5 min`, `3 h 5 min`, `2 d 4 h`.
    func elapsed(since date: Date) -> String {
        Self.duration(seconds: max(0, now.timeIntervalSince(date)))
    }

    /// `12 s`, `5 min`, `3 h`, `3 h 5 min`, `2 d 4 h`: seconds under a minute,
    /// whole minutes under an hour, then the two largest units. Rounded down,
    /// so that an uptime never reads longer than it is.
    static func duration(seconds: Double) -> String {
        guard seconds.isFinite, seconds < 1e12 else { return "a very long time" }
        let whole = Int(max(0, seconds))
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60) min" }
        let (days, hours, minutes) = (whole / 86_400, whole % 86_400 / 3600, whole % 3600 / 60)
        let parts = days > 0 ? [(days, "d"), (hours, "h")] : [(hours, "h"), (minutes, "min")]
        return parts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: " ")
    }

    private func isToday(_ date: Date) -> Bool {
        calendar.isDate(date, inSameDayAs: now)
    }

    private func calendarDate(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(parts.year ?? 0) + "-" + Self.twoDigits(parts.month) + "-" + Self.twoDigits(parts.day)
    }

    private func clock(_ date: Date, seconds: Bool) -> String {
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        let minutes = Self.twoDigits(parts.hour) + ":" + Self.twoDigits(parts.minute)
        return seconds ? minutes + ":" + Self.twoDigits(parts.second) : minutes
    }

    private static func twoDigits(_ value: Int?) -> String {
        let value = value ?? 0
        return value < 10 ? "0\(value)" : String(value)
    }
}
