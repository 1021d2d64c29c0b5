import Foundation
@testable import Rules
import Testing
import TestSupport

/// The loop guard's memory of recent runs counts exactly what a scan of the
/// window would, and survives a snapshot as a plain list of dates.
@Suite("Loop guard run history")
struct RunHistoryTests {
    @Test func countsTheRunsInsideTheWindowLikeAScan() {
        var history = RunHistory()
        var all: [Date] = []
        let start = Date(timeIntervalSince1970: 1_000_000)
        var generator = SeededGenerator(seed: 42)
        var time = start
        for _ in 0..<5_000 {
            time += Double.random(in: 0...0.01, using: &generator)
            let cutoff = time - 1
            all.append(time)
            let expected = all.count(where: { $0 > cutoff })
            #expect(history.record(time, forgettingUpTo: cutoff) == expected)
        }
    }

    @Test func codesAsAPlainArrayAndComparesByTheRunsKept() throws {
        var history = RunHistory()
        let base = Date(timeIntervalSince1970: 1_000_000)
        for second in 0..<200 {
            _ = history.record(base + Double(second), forgettingUpTo: base + Double(second) - 10)
        }
        let data = try JSONEncoder().encode(history)
        #expect(try JSONDecoder().decode([Date].self, from: data) == Array(history.runs))
        #expect(try JSONDecoder().decode(RunHistory.self, from: data) == history)
        #expect(history.runs.count == 10)
    }
}
