import Foundation

/// How numbers, durations and clock times read in traces, templates and messages.
public enum Formatting {
    /// `100,000`: digits grouped in threes, as the README writes numbers.
    public static func grouped(_ number: Int) -> String {
        let digits = String(number.magnitude)
        var result = number < 0 ? "-" : ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return result
    }

    /// `28`, `27.5`, `-0.25`: no trailing `.0`, no exponent for everyday values.
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// `0.5 s`, `12 s`, `2 min 5 s`, `1 h 30 min`, `2 d 3 h`.
    static func duration(seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e12 else { return "\(number(seconds)) s" }
        if seconds < 60 {
            let tenths = (seconds * 10).rounded() / 10
            return "\(number(tenths)) s"
        }
        let whole = Int(seconds.rounded())
        let (days, hours, minutes, secs) = (whole / 86_400, whole % 86_400 / 3600, whole % 3600 / 60, whole % 60)
        let parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
            .drop { $0.0 == 0 }.prefix(2).filter { $0.0 != 0 }
        return parts.map { "\($0.0) \($0.1)" }.joined(separator: " ")
    }

    /// `21:04:10` in the engine's time zone.
    static func clockTime(_ date: Date, calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        return twoDigits(parts.hour ?? 0) + ":" + twoDigits(parts.minute ?? 0) + ":" + twoDigits(parts.second ?? 0)
    }

    /// `2025-03-01` in the engine's time zone.
    static func calendarDate(_ date: Date, calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(parts.year ?? 0) + "-" + twoDigits(parts.month ?? 0) + "-" + twoDigits(parts.day ?? 0)
    }

    static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
