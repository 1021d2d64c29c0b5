import Foundation
import Testing
@testable import Rules

@Suite("Reconnects, retained messages, reload and restore", .timeLimit(.minutes(5))) struct StateLifecycleTests {
    @Test func aDeviceReconnectingAboveTheThresholdDoesNotFire() throws {
        var harness = try Harness(rules: hotRoomRule)
        harness.startNode(temperature: 25)
        harness.send("home/livingroom-node/status", "offline")
        harness.send("home/livingroom-node/status", "online")
        let back = harness.temperature(30)
        #expect(back.published.isEmpty)
        #expect(back.reasons("hot-room-led") == [
            "temperature 30 is above 28, but a first value after unknown or offline is not a change (see fire_on_first_value)",
        ])
        // From there on it behaves normally: it holds, so cooling runs otherwise.
        #expect(harness.temperature(26).published == ["home/livingroom-node/led/set off"])
        #expect(harness.temperature(29).published == ["home/livingroom-node/led/set on"])
    }

    @Test func theFirstValueEverIsNotACrossingEither() throws {
        var harness = try Harness(rules: hotRoomRule)
        harness.send("home/livingroom-node/status", "online")
        #expect(harness.temperature(30).published.isEmpty)
    }

    @Test func aRuleMayOptInToFireOnTheFirstValue() throws {
        var harness = try Harness(rules: """
            - id: hot
              when: { sensor: livingroom-node.temperature, above: 28, fire_on_first_value: true }
              then: [{ set: livingroom-node.led, to: on }]
            """)
        harness.startNode(temperature: 25)
        harness.send("home/livingroom-node/status", "offline")
        harness.send("home/livingroom-node/status", "online")
        #expect(harness.temperature(30).published == ["home/livingroom-node/led/set on"])
    }

    @Test func aStaleRetainedMessageDoesNotOverrideANewerLiveOne() throws {
        var harness = try Harness(rules: "[]")
        harness.send("home/livingroom-node/status", "online", retained: true)
        harness.send("home/livingroom-node/status", "offline")
        // The broker re-sends its retained copy (a resubscription): older news.
        let stale = harness.send("home/livingroom-node/status", "online", retained: true)
        #expect(stale.presenceChanges.isEmpty)
        #expect(stale.ignored.map(\.reason) == ["retained 'online' is older than the live message already received"])
        #expect(harness.engine.deviceStatuses[0].presence == .offline)

        harness.temperature(21)
        harness.send("home/livingroom-node/temperature", "35", retained: true)
        #expect(harness.engine.deviceStatuses[0].sensors["temperature"]?.value == .number(21))

        // After a reconnect the caller says retained messages are news again.
        harness.engine.trustRetainedMessagesAgain()
        harness.send("home/livingroom-node/status", "online", retained: true)
        #expect(harness.engine.deviceStatuses[0].presence == .online)
    }

    @Test func restoredStateIsSeededAndRetainedMessagesStillApply() throws {
        let saved = EngineSnapshot(devices: [DeviceStatus(
            id: "livingroom-node", presence: .offline, presenceSince: testStart.addingTimeInterval(-600),
            lastSeen: testStart.addingTimeInterval(-600),
            sensors: ["temperature": SensorStatus(value: .number(24), updatedAt: testStart.addingTimeInterval(-700))],
            actuators: ["led": ActuatorStatus(state: .on, updatedAt: testStart.addingTimeInterval(-700))])])
        // What the daemon saves goes through JSON.
        let decoded = try JSONDecoder().decode(EngineSnapshot.self, from: JSONEncoder().encode(saved))
        var harness = try Harness(rules: hotRoomRule, restoring: decoded)
        let status = try #require(harness.engine.status(ofDevice: "livingroom-node"))
        #expect(status.presence == .offline)
        #expect(status.presenceSince == testStart.addingTimeInterval(-600))
        #expect(status.sensors["temperature"]?.available == false)
        #expect(status.actuators["led"]?.state == .on)

        let retained = harness.send("home/livingroom-node/status", "online", retained: true)
        #expect(retained.presenceChanges.map { "\($0.from) -> \($0.to)" } == ["offline -> online"])
    }

    @Test func restoredValuesCountAsKnown() throws {
        let saved = EngineSnapshot(devices: [DeviceStatus(
            id: "livingroom-node", presence: .online,
            sensors: ["temperature": SensorStatus(value: .number(24), updatedAt: testStart)])])
        var harness = try Harness(rules: hotRoomRule, restoring: saved)
        #expect(harness.temperature(29).published == ["home/livingroom-node/led/set on"])
    }

    @Test func reloadKeepsDeviceStateAndUnchangedRules() throws {
        var harness = try Harness(rules: """
            - id: hot-for-30s
              when: { sensor: livingroom-node.temperature, above: 28, for: 30s }
              then: [{ set: livingroom-node.led, to: on }]
            """)
        harness.startNode(temperature: 25)
        harness.send("home/livingroom-node/led", "off")
        harness.temperature(29)
        harness.advance(10)

        let newHome = try validHome(devices: ["node.yaml": livingroomNode], rules: ["rules.yaml": """
            - id: added-while-hot
              when: { sensor: livingroom-node.temperature, above: 28 }
              then: [{ publish: { topic: t, payload: added } }]
              otherwise: [{ publish: { topic: t, payload: cooled } }]
            - id: hot-for-30s
              when: { sensor: livingroom-node.temperature, above: 28, for: 30s }
              then: [{ set: livingroom-node.led, to: on }]
            """])
        harness.engine = harness.engine.reloaded(with: newHome, now: harness.now)
        let status = try #require(harness.engine.status(ofDevice: "livingroom-node"))
        #expect(status.presence == .online)
        #expect(status.sensors["temperature"]?.value == .number(29))
        #expect(status.actuators["led"]?.state == .off)
        // The unchanged rule keeps waiting for the rest of its 30 s ...
        #expect(harness.advance(20).published == ["home/livingroom-node/led/set on"])
        // ... and the new rule starts holding without firing, so cooling runs otherwise.
        #expect(harness.temperature(29.5).decisions("added-while-hot") == [.skipped])
        #expect(harness.temperature(27).published == ["t cooled"])
    }

    @Test func reloadKeepsLiveness() throws {
        var harness = try Harness(rules: "[]")
        harness.send("home/livingroom-node/status", "offline")
        harness.engine = harness.engine.reloaded(with: harness.engine.home, now: harness.now)
        harness.send("home/livingroom-node/status", "online", retained: true)
        #expect(harness.engine.deviceStatuses[0].presence == .offline)
    }

    @Test func reloadLiftsTheLoopGuard() throws {
        var harness = try Harness(rules: """
            - id: chatty
              when: { mqtt: ping }
              loop_guard: { max_runs: 2, within: 1m }
              then: [{ publish: { topic: pong, payload: "" } }]
            """)
        for _ in 0..<3 { harness.send("ping", "") }
        #expect(harness.engine.ruleStatuses[0].suspended)
        harness.engine = harness.engine.reloaded(with: harness.engine.home, now: harness.now)
        #expect(!harness.engine.ruleStatuses[0].suspended)
        #expect(harness.send("ping", "").published == ["pong "])
    }

    @Test func fullSnapshotKeepsPendingTimersAcrossARestart() throws {
        var harness = try Harness(rules: """
            - id: blink
              when: { mqtt: go }
              then: [{ set: livingroom-node.led, to: on }, { delay: 1m }, { set: livingroom-node.led, to: off }]
            """)
        harness.send("go", "")
        let data = try JSONEncoder().encode(harness.engine.snapshot)
        let restored = Engine(
            home: harness.engine.home, restoring: try JSONDecoder().decode(EngineSnapshot.self, from: data),
            now: harness.now.addingTimeInterval(5), timeZone: utc)
        #expect(restored.pendingTimers == [PendingTimer(date: testStart.addingTimeInterval(60), purpose: .resume(rule: "blink"))])
        harness.engine = restored
        #expect(harness.advance(60).published == ["home/livingroom-node/led/set off"])
    }
}

@Suite("Reload and expire_after", .timeLimit(.minutes(5))) struct ReloadExpiryTests {
    @Test func reloadDoesNotRestartTheSilenceCount() throws {
        var harness = try Harness(devices: ["{ id: quiet, presence: { expire_after: 1m }, sensors: { t: { topic: q/t, type: number } } }"], rules: "[]")
        harness.send("q/t", "1")
        harness.advance(40)
        harness.engine = harness.engine.reloaded(with: harness.engine.home, now: harness.now)
        let outputs = harness.advance(20)
        #expect(outputs.presenceChanges.map(\.to) == [.offline])
        #expect(harness.now == testStart.addingTimeInterval(60))
    }
}
