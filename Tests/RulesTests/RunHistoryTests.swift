import Foundation
@testable import Rules
import Testing
import TestSupport

/// The loop guard's memory of recent runs counts exactly what a scan of the
/// window would, and survives a snapshot as a plain list of instants.
@Suite("Loop guard run history", .timeLimit(.minutes(5)))
struct RunHistoryTests {
    @Test func countsTheRunsInsideTheWindowLikeAScan() {
        var history = RunHistory()
        var all: [MonotonicInstant] = []
        let start = MonotonicInstant(nanoseconds: 1_000_000_000_000_000)
        var generator = SeededGenerator(seed: 42)
        var time = start
        for _ in 0..<5_000 {
            time = time.advanced(by: Double.random(in: 0...0.01, using: &generator))
            let cutoff = time.advanced(by: -1)
            all.append(time)
            let expected = all.count(where: { $0 > cutoff })
            #expect(history.record(time, forgettingUpTo: cutoff) == expected)
        }
    }

    @Test func codesAsAPlainArrayAndComparesByTheRunsKept() throws {
        var history = RunHistory()
        let base = MonotonicInstant(nanoseconds: 1_000_000_000_000_000)
        for second in 0..<200 {
            _ = history.record(base.advanced(by: Double(second)), forgettingUpTo: base.advanced(by: Double(second) - 10))
        }
        let data = try JSONEncoder().encode(history)
        #expect(try JSONDecoder().decode([MonotonicInstant].self, from: data) == Array(history.runs))
        #expect(try JSONDecoder().decode(RunHistory.self, from: data) == history)
        #expect(history.runs.count == 10)
    }
}
