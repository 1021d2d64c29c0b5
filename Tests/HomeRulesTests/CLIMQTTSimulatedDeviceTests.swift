import Foundation
@testable import HomeRules
import MQTTClient
import Rules
import Testing

@Suite("SimulatedDevice and its payloads", .timeLimit(.minutes(5)))
struct CLIMQTTSimulatedDeviceTests {
    static func device(_ yaml: String) throws -> Device {
        let loaded = HomeLoader.load(deviceFiles: [SourceFile(path: "d.yaml", text: yaml)], ruleFiles: [])
        let home = try loaded.get()
        return try #require(home.devices.first)
    }

    @Test(arguments: [
        ("tasmota", "Online", "Offline"),
        ("esphome", "online", "offline"),
        ("zigbee2mqtt", #"{"state":"online"}"#, #"{"state":"offline"}"#),
        ("shelly", "true", "false"),
        ("homie", "ready", "lost"),
    ])
    func conventionsAnnounceAsTheirFirmwareDoes(convention: String, online: String, offline: String) throws {
        let presence = try Self.device("id: d\nconvention: \(convention)\n").presence
        #expect(SimulatedDevice.presencePayload(presence, .online) == online)
        #expect(SimulatedDevice.presencePayload(presence, .offline) == offline)
    }

    @Test func customPresenceAnnouncesWithAPayloadItReads() throws {
        let presence = try #require(try Self.device("""
            id: d
            presence: { topic: x/status, online: [up, Alive], offline: Down, path: status.text }
            """).presence)
        #expect(presence.announcement(of: .online) == "alive")
        #expect(presence.announcement(of: .offline) == "down")
        #expect(presence.announcement(of: .sleeping) == nil)
        let payload = try #require(SimulatedDevice.presencePayload(presence, .online))
        #expect(payload == #"{"status":{"text":"alive"}}"#)
        #expect(presence.state(announcedBy: Array(payload.utf8)) == .online)
        // A convention's spelling gives way to an override that no longer reads it.
        let overridden = try #require(try Self.device("id: d\npresence: { convention: tasmota, online: up }\n").presence)
        #expect(overridden.announcement(of: .online) == "up")
        #expect(overridden.announcement(of: .offline) == "Offline")
    }

    @Test func jsonPayloadsPlaceValuesAtTheirPaths() throws {
        var document = JSONPayload()
        document.set(.number(21.5), at: try #require(JSONPath("climate.temperature")))
        document.set(.bool(true), at: try #require(JSONPath("contact")))
        document.set(.string("a \"quoted\"\nline"), at: try #require(JSONPath("notes[1]")))
        document.set(.number(40), at: try #require(JSONPath("climate.humidity")))
        #expect(document.text == #"{"climate":{"temperature":21.5,"humidity":40},"contact":true,"notes":[null,"a \"quoted\"\nline"]}"#)
        let decoded = try JSONSerialization.jsonObject(with: Data(document.text.utf8)) as? [String: Any]
        #expect((decoded?["notes"] as? [Any])?.last as? String == "a \"quoted\"\nline")
    }

    @Test func commandsAreReadLikeTheirFirmwareReadsThem() throws {
        let plug = try #require(try Self.device("""
            id: plug
            actuators:
              relay: { command_topic: p/set, state_topic: p/state, state_path: state, payloads: { on: "ON", off: "OFF", toggle: "TOGGLE" } }
            """).actuators.first)
        #expect(SimulatedDevice.command(Array("ON".utf8), for: plug) == .set(.state(.on)))
        #expect(SimulatedDevice.command(Array(" off\n".utf8), for: plug) == .set(.state(.off)))
        #expect(SimulatedDevice.command(Array("toggle".utf8), for: plug) == .toggle)
        #expect(SimulatedDevice.command(Array(#"{"state":"ON"}"#.utf8), for: plug) == .set(.state(.on)))
        #expect(SimulatedDevice.command(Array("dim 50".utf8), for: plug) == nil)
    }

    @Test func aTestCanSetReadingsAndHearTheDeviceGoOffline() async throws {
        let harness = try await CLIMQTTHarness(devices: "")
        let recorder = try await harness.recorder()
        let device = try Self.device("""
            id: node
            presence: { topic: n/status }
            sensors:
              temperature: { topic: n/temperature, type: number }
            """)
        let simulated = try SimulatedDevice(
            device: device, broker: MQTTClientConfiguration(host: "127.0.0.1", port: harness.port),
            logger: CLIMQTTHarness.quietLogger)

        try await simulated.connect()
        try await simulated.publish(.number(29), to: "temperature")
        await #expect(throws: SimulationError.unknownSensor(device: "node", sensor: "humidity")) {
            try await simulated.publish(.number(1), to: "humidity")
        }
        await simulated.goOffline()

        #expect(await recorder.waitFor("n/temperature", payload: "29"))
        #expect(await recorder.waitFor("n/status", payload: "offline"))
        #expect(recorder.payloads(on: "n/status") == ["online", "offline"])
        await recorder.stop()
        await harness.stop()
    }

    @Test func aRampPlaysItsLineThenStaysAtItsEnd() async throws {
        let harness = try await CLIMQTTHarness(devices: "")
        let recorder = try await harness.recorder("n/temperature")
        let device = try Self.device("id: node\nsensors:\n  temperature: { topic: n/temperature, type: number }\n")
        let ramp = SensorRamp(from: 26, to: 27, steps: 4)
        let simulated = try SimulatedDevice(
            device: device, broker: MQTTClientConfiguration(host: "127.0.0.1", port: harness.port),
            behaviours: ["temperature": SensorBehaviour(mean: 0, spread: 0, ramp: ramp)], logger: CLIMQTTHarness.quietLogger)
        try await simulated.connect()
        for _ in 0..<6 { try await simulated.publishReadings() }
        await simulated.goOffline()
        #expect(await CLIMQTTHarness.eventually { recorder.payloads(on: "n/temperature").count == 6 })
        #expect(recorder.payloads(on: "n/temperature") == ["26", "26.25", "26.5", "26.75", "27", "27"])
        await recorder.stop()
        await harness.stop()
    }

    @Test func aRampWithASpreadWandersAroundItsLine() {
        let ramp = SensorRamp(from: -10, to: 10, steps: 20)
        #expect(ramp.value(atStep: -1) == -10 && ramp.value(atStep: 10) == 0 && ramp.value(atStep: 99) == 10)
        var walk = SensorWalk(
            sensor: Sensor(name: "t", topic: "t", type: .number), behaviour: SensorBehaviour(mean: 50, spread: 1, ramp: ramp))
        var generator = SystemRandomNumberGenerator()
        for step in 0..<30 {
            guard case .number(let value) = walk.step(using: &generator) else { Issue.record("not a number"); return }
            #expect(abs(value - ramp.value(atStep: step)) <= 1.0001, "step \(step): \(value)")
        }
    }
}
