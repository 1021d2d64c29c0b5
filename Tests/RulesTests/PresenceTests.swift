import Foundation
import Testing
@testable import Rules

@Suite("Presence conventions and expiry", .timeLimit(.minutes(5))) struct PresenceTests {
    func presence(of device: String, after messages: [(String, String)]) throws -> [PresenceState] {
        var harness = try Harness(devices: [device], rules: "[]")
        return messages.map { topic, text in
            harness.send(topic, text)
            return harness.engine.deviceStatuses[0].presence
        }
    }

    @Test func tasmota() throws {
        let device = "{ id: plug, convention: tasmota }"
        #expect(try presence(of: device, after: [("tele/plug/LWT", "Online"), ("tele/plug/LWT", "Offline")]) == [.online, .offline])
    }

    @Test func esphomeWithItsOwnNodeName() throws {
        let device = "{ id: porch, presence: { convention: esphome, node: porch-light } }"
        #expect(try presence(of: device, after: [("porch-light/status", "online"), ("porch-light/status", "offline")]) == [.online, .offline])
    }

    @Test func zigbee2mqttJSONAndLegacyPayloads() throws {
        let device = "{ id: bedroom-sensor, convention: zigbee2mqtt }"
        let topic = "zigbee2mqtt/bedroom-sensor/availability"
        #expect(try presence(of: device, after: [
            (topic, #"{"state":"online"}"#), (topic, #"{"state":"offline"}"#), (topic, "online"),
        ]) == [.online, .offline, .online])
    }

    @Test func shelly() throws {
        let device = "{ id: shelly1-a1b2c3, convention: shelly }"
        let topic = "shellies/shelly1-a1b2c3/online"
        #expect(try presence(of: device, after: [(topic, "true"), (topic, "false")]) == [.online, .offline])
    }

    @Test func homieStates() throws {
        let device = "{ id: thermostat, convention: homie }"
        let topic = "homie/thermostat/$state"
        #expect(try presence(of: device, after: [
            (topic, "init"), (topic, "ready"), (topic, "sleeping"), (topic, "alert"), (topic, "lost"), (topic, "ready"),
            (topic, "disconnected"),
        ]) == [.initializing, .online, .sleeping, .alert, .offline, .online, .offline])
    }

    @Test func customPayloadsOverrideAConvention() throws {
        let device = "{ id: plug, presence: { convention: tasmota, online: [up, alive], offline: down } }"
        #expect(try presence(of: device, after: [
            ("tele/plug/LWT", "alive"), ("tele/plug/LWT", "Offline"), ("tele/plug/LWT", "down"), ("tele/plug/LWT", "UP"),
        ]) == [.online, .online, .offline, .online])
    }

    @Test func expireAfterMarksASilentDeviceOffline() throws {
        var harness = try Harness(devices: ["""
            id: bedroom-sensor
            presence: { expire_after: 5m }
            sensors:
              temperature: { topic: zigbee2mqtt/bedroom-sensor, type: number, path: temperature }
            """], rules: """
            - id: lost
              when: { device: bedroom-sensor, goes: offline }
              then: [{ publish: { topic: alerts, payload: "{{ device.id }} is silent" } }]
            """)
        harness.send("zigbee2mqtt/bedroom-sensor", #"{"temperature":19.5,"humidity":40}"#)
        #expect(harness.engine.deviceStatuses[0].presence == .online)
        #expect(harness.engine.deviceStatuses[0].sensors["temperature"]?.value == .number(19.5))
        harness.advance(240)
        harness.send("zigbee2mqtt/bedroom-sensor", #"{"temperature":19.6}"#)
        #expect(harness.advance(299).published.isEmpty)
        let silent = harness.advance(1)
        #expect(silent.published == ["alerts bedroom-sensor is silent"])
        #expect(silent.presenceChanges.map(\.reason) == ["silent for 5 min (expire_after)"])
        #expect(harness.engine.deviceStatuses[0].sensors["temperature"]?.available == false)
        harness.send("zigbee2mqtt/bedroom-sensor", #"{"temperature":19.7}"#)
        #expect(harness.engine.deviceStatuses[0].presence == .online)
    }

    @Test func expireAfterWithALastWillTopic() throws {
        var harness = try Harness(devices: ["""
            id: node
            presence: { topic: node/status, expire_after: 1m }
            sensors:
              temperature: { topic: node/temperature, type: number }
            """], rules: "[]")
        harness.send("node/status", "online", retained: true)
        let silent = harness.advance(60)
        #expect(silent.presenceChanges.map(\.to) == [.offline])
        // Any live message shows it is back after silence ...
        harness.send("node/temperature", "20")
        #expect(harness.engine.deviceStatuses[0].presence == .online)
        // ... but after it said offline, only its status topic brings it back.
        harness.send("node/status", "offline")
        harness.send("node/temperature", "21")
        #expect(harness.engine.deviceStatuses[0].presence == .offline)
        #expect(harness.engine.deviceStatuses[0].sensors["temperature"]?.value == .number(21))
    }

    @Test func unreadableSensorPayloadsAreIgnoredWithAReason() throws {
        var harness = try Harness(devices: ["""
            id: z
            sensors:
              temperature: { topic: z/state, type: number, path: "sensors[0].value" }
            """], rules: "[]")
        #expect(harness.send("z/state", "hello").ignored.map(\.reason) == ["sensor z.temperature: the payload is not JSON"])
        #expect(harness.send("z/state", #"{"sensors":[]}"#).ignored.map(\.reason) == [
            "sensor z.temperature: the JSON payload has nothing at 'sensors[0].value'",
        ])
        #expect(harness.send("z/state", #"{"sensors":[{"value":"21.5"}]}"#).sensorUpdates.map(\.value) == [.number(21.5)])
    }
}
