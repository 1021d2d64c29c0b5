import Foundation

/// Durations as people write them in YAML: `30s`, `5m`, `1h30m`, `500ms`,
/// `2d`, or a bare number of seconds.
public enum DurationSyntax {
    public static let help = "write a number with a unit (ms, s, m, h, d), like 30s, 5m or 1h30m, up to 10 years"

    /// The longest duration accepted: ten years, far beyond any sensible
    /// `for` or `delay`, and far from overflowing date arithmetic.
    static let maximumSeconds: Double = 10 * 365 * 86_400

    private static let unitSeconds: [String: Double] = ["ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400]

    /// Parses `text`, or returns nil when it is not a duration of at most
    /// ten years.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed) {
            return (0...maximumSeconds).contains(seconds) ? .seconds(seconds) : nil
        }
        var rest = Substring(trimmed)
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count).drop { $0 == " " }
            let unit = rest.prefix { $0.isLetter }
            guard let seconds = unitSeconds[String(unit)] else { return nil }
            rest = rest.dropFirst(unit.count).drop { $0 == " " }
            total += value * seconds
        }
        return total <= maximumSeconds ? .seconds(total) : nil
    }
}

extension Duration {
    /// The duration in seconds, as Foundation's date arithmetic wants it.
    public var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// `12 s`, `1.5 s`, `5 min`, `1 h 30 min`: short, for trace reasons.
    var spoken: String { Formatting.duration(seconds: timeInterval) }
}
