@testable import HomeRules
import Testing

/// The daemon's input queue stays short: the bus pauses past the high mark
/// and reads again at the low one; drops are reported once a second.
@Suite("The daemon's input gate")
struct InputGateTests {
    @Test func pausesOnceAtTheHighMarkAndResumesOnceAtTheLowMark() {
        let gate = InputGate(high: 10, low: 3)
        let pauses = (1...12).map { _ in gate.entered() }
        #expect(pauses.enumerated().filter(\.element).map(\.offset) == [9])   // the 10th message
        let resumes = (1...12).map { _ in gate.left() }
        #expect(resumes.enumerated().filter(\.element).map(\.offset) == [8])  // 3 left waiting
    }

    @Test func dropsAreCountedAndReportedAtMostOncePerSecond() {
        let gate = InputGate()
        let start = ContinuousClock.now
        _ = gate.entered()
        #expect(gate.dropped(now: start) == 1)
        for offset in 1...4 {
            _ = gate.entered()
            #expect(gate.dropped(now: start + .milliseconds(100 * offset)) == nil)
        }
        _ = gate.entered()
        #expect(gate.dropped(now: start + .seconds(1)) == 5)
    }

    @Test func everyDropIsHandedOverOnceForTheEventLog() {
        let gate = InputGate()
        #expect(gate.takeUnrecordedDrops() == nil)
        for _ in 0..<3 {
            _ = gate.entered()
            _ = gate.dropped()
        }
        #expect(gate.takeUnrecordedDrops() == 3)
        #expect(gate.takeUnrecordedDrops() == nil)
    }
}
