import Foundation
import Testing
@testable import Rules

/// NTP setting the wall clock of a board without a real-time clock: durations
/// run on the monotonic clock, `at` and `cron` on the wall clock.
@Suite("Wall-clock jumps", .timeLimit(.minutes(5))) struct ClockJumpTests {
    @Test func aJumpOfAnHourEitherWayNeitherFiresHoldsNorMarksDevicesOffline() throws {
        var harness = try Harness(
            devices: [livingroomNode, "{ id: quiet, presence: { expire_after: 5m }, sensors: { t: { topic: q/t, type: number } } }"],
            rules: """
                - id: hot-for-30m
                  when: { sensor: livingroom-node.temperature, above: 28, for: 30m }
                  then: [{ publish: { topic: alerts, payload: hot } }]
                - id: doorbell
                  when: { mqtt: doorbell }
                  cooldown: 10m
                  then: [{ publish: { topic: alerts, payload: ding } }]
                """)
        harness.startNode(temperature: 25)
        harness.send("q/t", "1")
        harness.temperature(29)
        #expect(harness.send("doorbell", "").published == ["alerts ding"])

        for jump in [3600.0, -3600, -3600] {
            let jumped = harness.jumpWall(by: jump)
            #expect(jumped.published.isEmpty)
            #expect(jumped.presenceChanges.isEmpty)
        }
        // An hour forward did not end the cooldown, an hour back did not prolong it.
        #expect(harness.send("doorbell", "").published.isEmpty)
        #expect(harness.advance(299).presenceChanges.isEmpty)
        #expect(harness.advance(1).presenceChanges.map(\.reason) == ["silent for 5 min (expire_after)"])
        #expect(harness.send("doorbell", "").published.isEmpty)
        harness.advance(300)
        #expect(harness.send("doorbell", "").published == ["alerts ding"])
        #expect(harness.advance(1199).published.isEmpty)
        #expect(harness.advance(1).published == ["alerts hot"])
    }

    @Test func theLoopGuardCountsOnTheMonotonicClock() throws {
        var harness = try Harness(rules: """
            - id: chatty
              when: { mqtt: ping }
              loop_guard: { max_runs: 2, within: 1m }
              then: [{ publish: { topic: pong, payload: "" } }]
            """)
        harness.send("ping", "")
        harness.send("ping", "")
        harness.jumpWall(by: 3600)
        #expect(harness.send("ping", "").problems.count == 1)
        #expect(harness.engine.ruleStatuses[0].suspended)
    }

    @Test func aJumpForwardAcrossAnAtTimeFiresItOnceWhenNoticed() throws {
        var harness = try Harness(rules: """
            - id: nine
              when: { at: "09:00" }
              then: [{ publish: { topic: alerts, payload: nine } }]
            - id: quarterly
              when: { cron: "*/15 * * * *" }
              then: [{ publish: { topic: alerts, payload: quarter } }]
            """)
        // 08:00 to 10:00 at once: 09:00 passed, and eight quarters.
        let jumped = harness.jumpWall(by: 7200)
        #expect(jumped.published == ["alerts quarter", "alerts nine"])
        #expect(harness.engine.pendingTimers.map(\.date) == [
            testStart.addingTimeInterval(7200 + 900), testStart.addingTimeInterval(86_400 + 3600),
        ])
    }

    @Test func aJumpBackAcrossAnAtTimeDoesNotFireItAgain() throws {
        var harness = try Harness(rules: """
            - id: half-past
              when: { at: "08:30" }
              then: [{ publish: { topic: alerts, payload: half } }]
            """)
        #expect(harness.advance(1860).published == ["alerts half"])
        #expect(harness.jumpWall(by: -3600).published.isEmpty)
        // The wall clock passes 08:30 again: it fired today already.
        #expect(harness.advance(3600).published.isEmpty)
        #expect(harness.engine.nextDeadline == testStart.addingTimeInterval(86_400 + 1800))
    }
}
