@testable import HomeRules
import Testing

/// The daemon's input queue stays short: the bus pauses past the high mark
/// and reads again at the low one; beyond its capacity messages are dropped,
/// and the drops reported once a second.
@Suite("The daemon's input gate", .timeLimit(.minutes(5)))
struct InputGateTests {
    @Test func pausesOnceAtTheHighMarkAndResumesOnceAtTheLowMark() {
        let gate = InputGate(high: 10, low: 3)
        let admissions = (1...12).map { _ in gate.admit() }
        #expect(admissions.enumerated().filter { $0.element == .queuedAndPause }.map(\.offset) == [9])   // the 10th message
        #expect(admissions.allSatisfy { $0 != .dropped(report: nil) })
        let resumes = (1...12).map { _ in gate.left() }
        #expect(resumes.enumerated().filter(\.element).map(\.offset) == [8])  // 3 left waiting
    }

    @Test func beyondItsCapacityDropsAreCountedAndReportedAtMostOncePerSecond() {
        let gate = InputGate(high: 2, low: 1, capacity: 3)
        let start = ContinuousClock.now
        for _ in 0..<3 { #expect(gate.admit(now: start) != .dropped(report: nil)) }
        #expect(gate.admit(now: start) == .dropped(report: 1))
        for offset in 1...4 {
            #expect(gate.admit(now: start + .milliseconds(100 * offset)) == .dropped(report: nil))
        }
        #expect(gate.admit(now: start + .seconds(1)) == .dropped(report: 5))
        _ = gate.left()
        #expect(gate.admit(now: start + .seconds(1)) == .queued)
    }

    @Test func everyDropIsHandedOverOnceForTheEventLog() {
        let gate = InputGate(capacity: 1)
        #expect(gate.takeUnrecordedDrops() == nil)
        _ = gate.admit()
        for _ in 0..<3 { _ = gate.admit() }
        #expect(gate.takeUnrecordedDrops() == 3)
        #expect(gate.takeUnrecordedDrops() == nil)
    }
}
