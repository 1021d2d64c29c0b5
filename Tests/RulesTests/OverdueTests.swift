import Foundation
import Testing
@testable import Rules

/// The clocks after the machine rebooted: the wall clock `seconds` after
/// `testStart`, the monotonic clock counting from a new boot.
func rebooted(_ seconds: Double) -> EngineTime {
    EngineTime(wall: testStart.addingTimeInterval(seconds), monotonic: MonotonicInstant(nanoseconds: 42_000_000_000))
}

/// A snapshot as the daemon saves it: through JSON, at the harness's clocks.
func saved(_ harness: Harness) throws -> EngineSnapshot {
    try JSONDecoder().decode(EngineSnapshot.self, from: JSONEncoder().encode(harness.engine.snapshot(at: harness.clock)))
}

@Suite("Timers after a restart", .timeLimit(.minutes(5))) struct OverdueTests {
    let holdRule = """
        - id: hot-for-30s
          when: { sensor: livingroom-node.temperature, above: 28, for: 30s }
          then: [{ set: livingroom-node.led, to: on }]
          otherwise: [{ set: livingroom-node.led, to: off }]
        """

    /// Saved 10 s into the 30 s hold.
    func savedWhileHolding() throws -> EngineSnapshot {
        var harness = try Harness(rules: holdRule)
        harness.startNode(temperature: 25)
        harness.temperature(29)
        harness.advance(10)
        return try saved(harness)
    }

    @Test func anOverdueHoldWaitsForAFreshValueAndFiresIfItStillHolds() throws {
        var harness = try Harness(rules: holdRule, restoring: try savedWhileHolding(), at: rebooted(3600))
        // Not on the clock, and not on old news.
        #expect(harness.tick().published.isEmpty)
        let retained = harness.send("home/livingroom-node/temperature", "29", retained: true)
        #expect(retained.published.isEmpty)
        #expect(retained.decisions("hot-for-30s") == [.waiting])
        #expect(retained.reasons("hot-for-30s").first?.contains("the first fresh value decides") == true)

        let fresh = harness.temperature(29.5)
        #expect(fresh.published == ["home/livingroom-node/led/set on"])
        #expect(fresh.reasons("hot-for-30s") == [
            "temperature 29 is above 28, held 30 s (it ran out while the daemon was down; temperature 29.5 is still above 28 on the first fresh value)",
        ])
        // From there on it holds as usual: cooling runs otherwise.
        #expect(harness.temperature(26).published == ["home/livingroom-node/led/set off"])
    }

    @Test func anOverdueHoldWhoseConditionEndedFiresNothing() throws {
        var harness = try Harness(rules: holdRule, restoring: try savedWhileHolding(), at: rebooted(3600))
        let fresh = harness.temperature(25)
        // Neither `then` on the old value nor `otherwise` right after.
        #expect(fresh.published.isEmpty)
        #expect(fresh.decisions("hot-for-30s") == [.skipped])
        #expect(harness.engine.nextDeadline == nil)
        // The next crossing waits its 30 s afresh.
        #expect(harness.temperature(29).decisions("hot-for-30s") == [.waiting])
        #expect(harness.advance(30).published == ["home/livingroom-node/led/set on"])
    }

    @Test func aHoldStillRunningKeepsItsWallClockTimeLeftOnANewMonotonicClock() throws {
        var harness = try Harness(rules: holdRule, restoring: try savedWhileHolding(), at: rebooted(15))
        #expect(harness.engine.pendingTimers.first == PendingTimer(date: testStart.addingTimeInterval(30), purpose: .hold(rule: "hot-for-30s", trigger: 0)))
        #expect(harness.advance(14).published.isEmpty)
        #expect(harness.advance(1).published == ["home/livingroom-node/led/set on"])
    }

    let blinkRule = """
        - id: blink
          when: { mqtt: go }
          then: [{ set: livingroom-node.led, to: on }, { delay: 1m }, { set: livingroom-node.led, to: off }]
        """

    func savedWhileDelayed() throws -> EngineSnapshot {
        var harness = try Harness(rules: blinkRule)
        harness.send("go", "")
        harness.advance(5)
        return try saved(harness)
    }

    @Test func aDelayOverdueBeyondTheLimitIsSkippedWithItsReason() throws {
        var harness = try Harness(rules: blinkRule, restoring: try savedWhileDelayed(), at: rebooted(7200))
        let first = harness.tick()
        #expect(first.published.isEmpty)
        #expect(first.decisions("blink") == [.skipped])
        #expect(first.reasons("blink") == [
            "its delay of 1 min ended 1 h 59 min ago, while the daemon was down: later than overdue_delay_limit (5 min), "
                + "so the remaining 1 action(s) were skipped",
        ])
        #expect(harness.engine.ruleStatuses[0].isRunning == false)
        #expect(harness.advance(600).published.isEmpty)
    }

    @Test func aDelayOverdueWithinTheLimitRunsOnAtOnce() throws {
        var harness = try Harness(rules: blinkRule, restoring: try savedWhileDelayed(), at: rebooted(180))
        #expect(harness.tick().published == ["home/livingroom-node/led/set off"])

        var strict = try Harness(
            rules: blinkRule, restoring: try savedWhileDelayed(), at: rebooted(61), policy: RestartPolicy(overdueDelayLimit: .zero))
        #expect(strict.tick().published.isEmpty)
    }
}
