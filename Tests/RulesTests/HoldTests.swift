import Foundation
import Testing
@testable import Rules

@Suite("for: holding a trigger", .timeLimit(.minutes(5))) struct HoldTests {
    let rule = """
        - id: hot-for-30s
          when: { sensor: livingroom-node.temperature, above: 28, for: 30s }
          then: [{ set: livingroom-node.led, to: on }]
          otherwise: [{ set: livingroom-node.led, to: off }]
        """

    @Test func firesOnlyAfterTheConditionHeldThatLong() throws {
        var harness = try Harness(rules: rule)
        harness.startNode(temperature: 25)

        let start = harness.temperature(29)
        #expect(start.decisions("hot-for-30s") == [.waiting])
        #expect(start.reasons("hot-for-30s") == ["held 0 s of 30 s (temperature 29 is above 28)"])
        #expect(harness.engine.nextDeadline == harness.now.addingTimeInterval(30))
        #expect(harness.engine.pendingTimers.map(\.purpose) == [.hold(rule: "hot-for-30s", trigger: 0)])

        #expect(harness.advance(12).isEmpty)
        let midway = harness.temperature(29.5)
        #expect(midway.reasons("hot-for-30s") == ["held 12 s of 30 s (temperature 29.5 is still above 28)"])

        let fired = harness.advance(18)
        #expect(fired.published == ["home/livingroom-node/led/set on"])
        #expect(fired.reasons("hot-for-30s") == ["temperature 29 is above 28, held 30 s"])
        // The output points back at the message that started the hold.
        #expect(fired.publications.count == 1)
        #expect(fired.first.map { $0.origin != $0.input } == true)
        #expect(harness.engine.nextDeadline == nil)
    }

    @Test func droppingBeforeTheEndCancelsTheHold() throws {
        var harness = try Harness(rules: rule)
        harness.startNode(temperature: 25)
        harness.temperature(29)
        harness.advance(20)
        let dropped = harness.temperature(27)
        #expect(dropped.decisions("hot-for-30s") == [.skipped])
        #expect(dropped.reasons("hot-for-30s") == ["temperature 27 is no longer above 28 after holding 20 s of 30 s"])
        #expect(harness.engine.nextDeadline == nil)
        #expect(harness.advance(60).published.isEmpty)
    }

    @Test func aLateTickFiresAtTheDeadlineItself() throws {
        var harness = try Harness(rules: """
            - id: hot-for-30s
              when: { sensor: livingroom-node.temperature, above: 28, for: 30s }
              cooldown: 1m
              then: [{ set: livingroom-node.led, to: on }]
            """)
        harness.startNode(temperature: 25)
        harness.temperature(29)
        // The daemon ticks 5 s late: the cooldown counts from the deadline.
        let late = harness.engine.handle(.tick, id: 99, at: harness.now.addingTimeInterval(35))
        #expect(late.published == ["home/livingroom-node/led/set on"])
        #expect(harness.engine.ruleStatuses[0].cooldownUntil == testStart.addingTimeInterval(90))
    }

    @Test func aDeviceGoingOfflineStopsTheWait() throws {
        var harness = try Harness(rules: rule)
        harness.startNode(temperature: 25)
        harness.temperature(29)
        harness.advance(10)
        let offline = harness.send("home/livingroom-node/status", "offline")
        #expect(offline.reasons("hot-for-30s") == ["stopped waiting after 10 s: livingroom-node went offline"])
        #expect(harness.advance(60).published.isEmpty)
    }

    @Test func forOnPresenceAndOnAnyChange() throws {
        var harness = try Harness(rules: """
            - id: gone-5-min
              when: { device: livingroom-node, goes: offline, for: 5m }
              then: [{ publish: { topic: alerts, payload: "{{ device.name }} gone for 5 minutes" } }]
            - id: mode-settled
              when: { sensor: livingroom-node.mode, for: 10s }
              then: [{ publish: { topic: alerts, payload: "mode {{ devices.livingroom-node.mode }}" } }]
            """)
        harness.startNode()
        harness.send("home/livingroom-node/status", "offline")
        #expect(harness.advance(299).published.isEmpty)
        #expect(harness.advance(1).published == ["alerts Living room ESP8266 gone for 5 minutes"])

        harness.send("home/livingroom-node/status", "online")
        harness.send("home/livingroom-node/mode", "eco")   // first value: not a change
        harness.send("home/livingroom-node/mode", "away")
        harness.advance(5)
        harness.send("home/livingroom-node/mode", "home")  // restarts the 10 s
        #expect(harness.advance(9).published.isEmpty)
        #expect(harness.advance(1).published == ["alerts mode home"])
    }
}
