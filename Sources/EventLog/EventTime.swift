import Foundation

/// Fast UTC timestamps for the hot path of logging: Foundation's formatters
/// cost tens of microseconds per date, more than the rest of an event.
///
/// Both forms round to the nearest millisecond, as GRDB's stored dates do
/// (so a time read back from SQLite, .830 as .8299999…, stays .830).
enum EventTime {
    /// `yyyy-MM-dd HH:mm:ss.SSS`, GRDB's storage format for `Date`, so that
    /// queries binding `Date` arguments compare with what is stored.
    static func databaseText(_ date: Date) -> String {
        format(date, separator: UInt8(ascii: " "), zulu: false)
    }

    /// `yyyy-MM-ddTHH:mm:ss.SSSZ`, ISO 8601 for JSON.
    static func isoText(_ date: Date) -> String {
        format(date, separator: UInt8(ascii: "T"), zulu: true)
    }

    private static func format(_ date: Date, separator: UInt8, zulu: Bool) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(milliseconds.floorDivided(by: 1000))
        let fraction = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func put(_ value: Int, digits: Int) {
                var divisor = 1
                for _ in 1..<digits { divisor *= 10 }
                var rest = value
                while divisor > 0 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(rest / divisor)
                    rest %= divisor
                    divisor /= 10
                    index += 1
                }
            }
            func put(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            put(Int(parts.tm_year) + 1900, digits: 4)
            put(UInt8(ascii: "-"))
            put(Int(parts.tm_mon) + 1, digits: 2)
            put(UInt8(ascii: "-"))
            put(Int(parts.tm_mday), digits: 2)
            put(separator)
            put(Int(parts.tm_hour), digits: 2)
            put(UInt8(ascii: ":"))
            put(Int(parts.tm_min), digits: 2)
            put(UInt8(ascii: ":"))
            put(Int(parts.tm_sec), digits: 2)
            put(UInt8(ascii: "."))
            put(fraction, digits: 3)
            if zulu { put(UInt8(ascii: "Z")) }
            return index
        }
    }
}

private extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
