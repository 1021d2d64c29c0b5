import Foundation
import Testing
@testable import Rules

/// What the daemon saved before a restart: the living room node online, last
/// heard two hours before `testStart`, with a temperature and an LED state.
func savedOnlineNode(heardSecondsAgo seconds: Double = 7200) -> EngineSnapshot {
    let heard = testStart.addingTimeInterval(-seconds)
    return EngineSnapshot(devices: [DeviceStatus(
        id: "livingroom-node", presence: .online, presenceSince: heard.addingTimeInterval(-600), lastSeen: heard,
        sensors: ["temperature": SensorStatus(value: .number(24), updatedAt: heard)],
        actuators: ["led": ActuatorStatus(state: .on, updatedAt: heard)])])
}

let nodeLostRule = """
    - id: node-lost
      when: { device: livingroom-node, goes: offline }
      then: [{ publish: { topic: alerts, payload: "{{ device.name }} went offline" } }]
    """

@Suite("Presence after a restart is provisional until confirmed", .timeLimit(.minutes(5))) struct PresenceRestartTests {
    @Test func restoredPresenceUnheardForTheGracePeriodGoesOffline() throws {
        var harness = try Harness(rules: nodeLostRule, restoring: savedOnlineNode())
        let status = try #require(harness.engine.status(ofDevice: "livingroom-node"))
        #expect(status.presence == .online)
        #expect(status.provisional)
        #expect(harness.engine.pendingTimers.map(\.purpose) == [.grace(device: "livingroom-node")])

        #expect(harness.advance(59).presenceChanges.isEmpty)
        let lost = harness.advance(1)
        #expect(lost.presenceChanges.map(\.reason) == ["not heard from since the restart (grace period 1 min)"])
        #expect(lost.presenceChanges.map(\.to) == [.offline])
        // As for any loss: rules on `goes: offline` run, and the values are stale.
        #expect(lost.published == ["alerts Living room ESP8266 went offline"])
        let after = try #require(harness.engine.status(ofDevice: "livingroom-node"))
        #expect(!after.provisional)
        #expect(after.sensors["temperature"]?.available == false)
    }

    @Test func anyLiveMessageFromTheDeviceConfirmsIt() throws {
        var harness = try Harness(rules: nodeLostRule, restoring: savedOnlineNode())
        harness.advance(30)
        harness.send("home/livingroom-node/motion", "true")
        #expect(harness.engine.status(ofDevice: "livingroom-node")?.provisional == false)
        let later = harness.advance(3600)
        #expect(later.presenceChanges.isEmpty)
        #expect(later.published.isEmpty)
    }

    @Test func aRetainedPresenceConfirmsItButARetainedValueDoesNot() throws {
        // A retained state is the broker's own, and the broker holds the device's will.
        var confirmed = try Harness(rules: nodeLostRule, restoring: savedOnlineNode())
        confirmed.send("home/livingroom-node/status", "online", retained: true)
        #expect(confirmed.advance(600).presenceChanges.isEmpty)

        var unconfirmed = try Harness(rules: nodeLostRule, restoring: savedOnlineNode())
        unconfirmed.send("home/livingroom-node/temperature", "25", retained: true)
        #expect(unconfirmed.engine.status(ofDevice: "livingroom-node")?.provisional == true)
        #expect(unconfirmed.advance(60).presenceChanges.map(\.to) == [.offline])
    }

    @Test func theGracePeriodFollowsTheKeepaliveOrTheSetting() throws {
        let node = """
            id: node
            presence: { topic: node/status, keepalive: 20s }
            sensors: { t: { topic: node/t, type: number } }
            """
        let saved = EngineSnapshot(devices: [DeviceStatus(id: "node", presence: .online)])
        var fromKeepalive = try Harness(devices: [node], rules: "[]", restoring: saved)
        #expect(fromKeepalive.advance(29).presenceChanges.isEmpty)
        #expect(fromKeepalive.advance(1).presenceChanges.map(\.reason) == ["not heard from since the restart (grace period 30 s)"])

        var fromSetting = try Harness(
            devices: [node], rules: "[]", restoring: saved, policy: RestartPolicy(presenceGracePeriod: .seconds(90)))
        #expect(fromSetting.advance(89).presenceChanges.isEmpty)
        #expect(fromSetting.advance(1).presenceChanges.map(\.to) == [.offline])
    }

    @Test func offlineAndSleepingDevicesAreNotProvisional() throws {
        let device = "{ id: thermostat, convention: homie }"
        for state in [PresenceState.offline, .sleeping] {
            var harness = try Harness(devices: [device], rules: "[]", restoring: EngineSnapshot(devices: [DeviceStatus(id: "thermostat", presence: state)]))
            #expect(harness.engine.status(ofDevice: "thermostat")?.provisional == false)
            #expect(harness.advance(3600).presenceChanges.isEmpty)
        }
    }

    @Test func restoredValuesAreMarkedUntilAFreshReading() throws {
        var harness = try Harness(rules: hotRoomRule, restoring: savedOnlineNode())
        let restored = try #require(harness.engine.status(ofDevice: "livingroom-node"))
        #expect(restored.sensors["temperature"]?.restored == true)
        #expect(restored.sensors["temperature"]?.updatedAt == testStart.addingTimeInterval(-7200))
        #expect(restored.actuators["led"]?.restored == true)
        // A retained copy is no fresher than the restored value.
        harness.send("home/livingroom-node/temperature", "24.5", retained: true)
        #expect(harness.engine.status(ofDevice: "livingroom-node")?.sensors["temperature"]?.restored == true)
        // The restored value is the value before the next reading, not a reading.
        let fresh = harness.temperature(29)
        #expect(fresh.published == ["home/livingroom-node/led/set on"])
        #expect(harness.engine.status(ofDevice: "livingroom-node")?.sensors["temperature"]?.restored == false)
        // Saved again, the flags survive a restart's JSON round trip.
        let data = try JSONEncoder().encode(harness.engine.snapshot)
        let decoded = try JSONDecoder().decode(EngineSnapshot.self, from: data)
        #expect(decoded.devices.first?.sensors["temperature"]?.restored == false)
        // The LED has not reported since: its state is still the restored one.
        #expect(decoded.devices.first?.actuators["led"]?.restored == true)
    }

    @Test func aReloadKeepsProvisionalPresenceAndItsGracePeriod() throws {
        var harness = try Harness(rules: nodeLostRule, restoring: savedOnlineNode())
        harness.advance(40)
        harness.engine = harness.engine.reloaded(with: harness.engine.home, now: harness.clock)
        #expect(harness.engine.status(ofDevice: "livingroom-node")?.provisional == true)
        #expect(harness.advance(19).presenceChanges.isEmpty)
        #expect(harness.advance(1).presenceChanges.map(\.to) == [.offline])
    }

    @Test func aSnapshotFromAnEarlierBuildKeepsItsDevices() throws {
        // Saved before the flags and the clocks were recorded: no `provisional`,
        // no `restored`, no clocks, and rules whose instants were dates.
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(savedOnlineNode())) as? [String: Any])
        var device = try #require((object["devices"] as? [[String: Any]])?.first)
        device["provisional"] = nil
        var sensors = try #require(device["sensors"] as? [String: [String: Any]])
        sensors["temperature"]?["restored"] = nil
        device["sensors"] = sensors
        object["devices"] = [device]
        object["rules"] = [["id": "gone", "rule": [String: Any](), "runtime": ["cooldownUntil": 762_681_600]]]
        let old = try JSONSerialization.data(withJSONObject: object)
        let snapshot = try JSONDecoder().decode(EngineSnapshot.self, from: old)
        #expect(snapshot.devices.map(\.id) == ["livingroom-node"])
        #expect(snapshot.devices.first?.sensors["temperature"]?.value == .number(24))
        #expect(snapshot.rules.isEmpty)
    }
}
