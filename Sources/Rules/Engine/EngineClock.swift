import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant on a clock that only moves forward, at a steady rate: Linux's
/// `CLOCK_MONOTONIC`. Durations (`for`, `delay`, `cooldown`, `expire_after`,
/// the presence grace period, the loop guard) are measured on it, so that a
/// wall clock set by NTP on a board without a real-time clock moves none of
/// them.
public struct MonotonicInstant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Nanoseconds since an arbitrary origin (the machine's boot); only
    /// differences between instants of one run mean anything.
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The monotonic clock now.
    public static func now() -> MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    /// The instant `seconds` later (earlier when negative).
    public func advanced(by seconds: Double) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds &+ Self.nanoseconds(seconds))
    }

    /// Seconds from `other` to this instant.
    public func seconds(since other: MonotonicInstant) -> Double {
        Double(nanoseconds &- other.nanoseconds) / 1e9
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public var description: String { "\(Double(nanoseconds) / 1e9) s (monotonic)" }

    /// Whole nanoseconds, clamped far from overflow (durations are at most ten years).
    static func nanoseconds(_ seconds: Double) -> Int64 {
        Int64((min(max(seconds, -1e9), 1e9) * 1e9).rounded())
    }

    public init(from decoder: any Decoder) throws {
        nanoseconds = try Int64(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try nanoseconds.encode(to: encoder)
    }
}

/// The two clocks the engine reads at each input: the wall clock for `at`,
/// `cron`, time conditions and what people read (times in traces, events,
/// `homerules devices`), and the monotonic clock for every duration.
public struct EngineTime: Sendable, Hashable {
    public var wall: Date
    public var monotonic: MonotonicInstant

    public init(wall: Date, monotonic: MonotonicInstant) {
        self.wall = wall
        self.monotonic = monotonic
    }

    /// Both clocks from one date, as in virtual time (`rules test`, replay,
    /// most tests): the monotonic instant counts the date's seconds since
    /// 2001, so the two clocks move together.
    public init(_ wall: Date) {
        self.wall = wall
        monotonic = MonotonicInstant(nanoseconds: MonotonicInstant.nanoseconds(wall.timeIntervalSinceReferenceDate))
    }

    /// Both clocks now.
    public static func now() -> EngineTime {
        EngineTime(wall: Date(), monotonic: .now())
    }

    /// `seconds` later on both clocks.
    public func advanced(by seconds: Double) -> EngineTime {
        EngineTime(wall: wall.addingTimeInterval(seconds), monotonic: monotonic.advanced(by: seconds))
    }

    /// The wall time of a monotonic instant, if the wall clock keeps pace
    /// with the monotonic one from here: for showing a deadline to people.
    public func wall(at instant: MonotonicInstant) -> Date {
        wall.addingTimeInterval(instant.seconds(since: monotonic))
    }

    /// The monotonic instant at which the wall clock shows `date`, if it
    /// keeps pace from here: for waiting for an `at` time.
    public func monotonic(at date: Date) -> MonotonicInstant {
        monotonic.advanced(by: date.timeIntervalSince(wall))
    }
}
