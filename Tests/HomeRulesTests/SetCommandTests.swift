import Foundation
import Synchronization
import MQTT
import MQTTClient
import TestSupport
import Testing

@Suite("homerules set and toggle", .timeLimit(.minutes(5)))
struct SetCommandTests {
    static let devices = """
        id: node
        presence: { topic: test/node/status }
        sensors:
          temperature: { topic: test/node/temperature, type: number }
        actuators:
          led: { command_topic: test/node/led/set, state_topic: test/node/led, payloads: { on: "on", off: "off" } }
          buzzer: { command_topic: test/node/buzzer/set, qos: 1, retain: true }
        ---
        id: plug
        convention: tasmota
        actuators:
          relay:
            command_topic: cmnd/plug/POWER
            state_topic: stat/plug/POWER
            payloads: { on: "ON", off: "OFF", toggle: "TOGGLE" }
        """

    /// A device made by hand: answers every command on `commandTopic` with
    /// `reply(payload)` on `stateTopic`, retained, as Tasmota does.
    static func echoDevice(
        _ harness: CLIMQTTHarness, commandTopic: String, stateTopic: String,
        reply: @escaping @Sendable (String) -> String = { $0 }
    ) async throws -> MQTTClient {
        let client = try await harness.client("echo-\(UUID().uuidString.prefix(8))")
        _ = try await client.subscribe(commandTopic, qos: .atLeastOnce) { message in
            let answer = reply(message.payloadString)
            Task { try? await client.publish(topic: stateTopic, payload: answer, qos: .atLeastOnce, retain: true) }
        }
        return client
    }

    @Test func setPublishesTheCommandAndReportsTheEcho() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let device = try await Self.echoDevice(harness, commandTopic: "test/node/led/set", stateTopic: "test/node/led")
        let recorder = try await harness.recorder("test/node/led/set")

        let result = try await harness.run(["set", "node.led", "on", "--broker", harness.url, "--timeout", "30s"])

        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.wholeMatch(of: /node\.led is on \(confirmed in \d+ ms\)\n/) != nil, "\(result.stdout)")
        #expect(await recorder.waitFor("test/node/led/set", payload: "on"))
        await device.disconnect()
        await recorder.stop()
        await harness.stop()
    }

    @Test(arguments: ["ON", "On", "on"])
    func aStateInAnyCaseOrTheActuatorsOwnPayloadSwitches(state: String) async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let device = try await Self.echoDevice(harness, commandTopic: "cmnd/plug/POWER", stateTopic: "stat/plug/POWER")
        let recorder = try await harness.recorder("cmnd/plug/POWER")

        let on = try await harness.run(["set", "plug.relay", state, "--broker", harness.url, "--timeout", "30s"])
        #expect(on.status == 0 && on.stdout.hasPrefix("plug.relay is on (confirmed in "), "\(on)")
        let off = try await harness.run(["set", "plug.relay", "Off", "--broker", harness.url, "--timeout", "30s"])
        #expect(off.status == 0 && off.stdout.hasPrefix("plug.relay is off (confirmed in "), "\(off)")
        // The recorder is another client: its copy of the second command may trail the echo that confirmed it.
        #expect(await recorder.waitFor("cmnd/plug/POWER", payload: "OFF"))
        #expect(recorder.payloads(on: "cmnd/plug/POWER") == ["ON", "OFF"])
        await device.disconnect()
        await recorder.stop()
        await harness.stop()
    }

    @Test func aStateThatIsNeitherOnNorOffNorAPayloadIsAUsageErrorBeforeAnythingIsSent() async throws {
        // No broker listens here: the state is checked before connecting.
        let harness = try await CLIMQTTHarness(devices: Self.devices, port: try freeLoopbackPort())
        let result = try await harness.run(["set", "plug.relay", "dim", "--broker", harness.url])
        #expect(result.status == 64)
        #expect(result.stderr == "error: plug.relay takes on or off; 'dim' is neither\n")
    }

    @Test func theVersionIsPrinted() async throws {
        let result = try await HomeRulesBinary.run(["--version"])
        #expect(result.status == 0 && result.stdout == "homerules 0.1.0\n")
    }

    @Test func aMissingEchoExitsWith4AndSaysWhatWasSent() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let recorder = try await harness.recorder("test/node/led/set")

        let result = try await harness.run(["set", "node.led", "off", "--broker", harness.url, "--timeout", "300ms"])

        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(
            "error: node.led did not confirm: sent 'off' to test/node/led/set, but nothing reported its state on test/node/led within 300ms"),
            "\(result.stderr)")
        #expect(await recorder.waitFor("test/node/led/set", payload: "off"))
        await recorder.stop()
        await harness.stop()
    }

    @Test func anEchoOfTheOtherStateIsNoConfirmation() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let device = try await Self.echoDevice(harness, commandTopic: "test/node/led/set", stateTopic: "test/node/led") { _ in "off" }

        // Long enough for the echo to come back on a busy machine.
        let result = try await harness.run(["set", "node.led", "on", "--broker", harness.url, "--timeout", "10s"])

        #expect(result.status == 4)
        #expect(result.stderr.contains("but it reported off on test/node/led within 10s"), "\(result.stderr)")
        await device.disconnect()
        await harness.stop()
    }

    @Test(arguments: [
        (["node.lde", "on"], "error: device 'node' has no actuator 'lde'; did you mean 'node.led'?"),
        (["nod.led", "on"], "error: unknown device 'nod'; did you mean 'node'?"),
        (["node.temperature", "on"], "error: device 'node' has no actuator 'temperature'; 'temperature' is a sensor"),
        (["plug", "on"], "error: expected DEVICE.ACTUATOR, such as livingroom-node.led; found 'plug'; did you mean 'plug.relay'?"),
    ])
    func unknownNamesExitWith2(arguments: [String], message: String) async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let result = try await harness.run(["set"] + arguments + ["--broker", harness.url])
        #expect(result.status == 2)
        #expect(result.stderr == message + "\n")
        await harness.stop()
    }

    @Test func toggleNamesTheDeviceItCannotFind() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let result = try await harness.run(["toggle", "plug.rleay", "--broker", harness.url])
        #expect(result.status == 2)
        #expect(result.stderr == "error: device 'plug' has no actuator 'rleay'; did you mean 'plug.relay'?\n")
        await harness.stop()
    }

    @Test func anUnreachableBrokerExitsWith3() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices, port: try freeLoopbackPort())
        for command in [["set", "node.led", "on"], ["toggle", "plug.relay"]] {
            let result = try await harness.run(command + ["--broker", harness.url])
            #expect(result.status == 3)
            #expect(result.stderr.hasPrefix("error: cannot reach the MQTT broker at 127.0.0.1:\(harness.port)"), "\(result.stderr)")
        }
    }

    @Test func toggleSendsTheTogglePayloadWhenTheDeviceHasOne() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let relay = CLIMQTTRelayState()
        let device = try await Self.echoDevice(harness, commandTopic: "cmnd/plug/POWER", stateTopic: "stat/plug/POWER") { payload in
            payload == "TOGGLE" ? relay.toggle() : payload
        }
        let recorder = try await harness.recorder("cmnd/plug/POWER")

        let first = try await harness.run(["toggle", "plug.relay", "--broker", harness.url, "--timeout", "30s"])
        let second = try await harness.run(["toggle", "plug.relay", "--broker", harness.url, "--timeout", "30s"])

        #expect(first.stdout.hasPrefix("plug.relay is on (confirmed in "), "\(first.stdout)\(first.stderr)")
        #expect(second.stdout.hasPrefix("plug.relay is off (confirmed in "), "\(second.stdout)\(second.stderr)")
        #expect(await CLIMQTTHarness.eventually { recorder.payloads(on: "cmnd/plug/POWER") == ["TOGGLE", "TOGGLE"] })
        await device.disconnect()
        await recorder.stop()
        await harness.stop()
    }

    @Test func toggleReadsTheRetainedStateWhenThereIsNoTogglePayload() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let publisher = try await harness.client("retained-state")
        try await publisher.publish(topic: "test/node/led", payload: "on", qos: .atLeastOnce, retain: true)
        let device = try await Self.echoDevice(harness, commandTopic: "test/node/led/set", stateTopic: "test/node/led")
        let recorder = try await harness.recorder("test/node/led/set")

        let result = try await harness.run(["toggle", "node.led", "--broker", harness.url, "--timeout", "30s"])

        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("node.led is off (confirmed in "), "\(result.stdout)")
        #expect(recorder.payloads(on: "test/node/led/set") == ["off"])
        await publisher.disconnect()
        await device.disconnect()
        await recorder.stop()
        await harness.stop()
    }

    @Test func toggleWithoutAKnownStateExitsWith5() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let recorder = try await harness.recorder("test/node/led/set")

        let result = try await harness.run(["toggle", "node.led", "--broker", harness.url])

        #expect(result.status == 5)
        #expect(result.stderr.hasPrefix(
            "error: cannot toggle node.led: its state is unknown (nothing retained on test/node/led), and it has no toggle payload\n"),
            "\(result.stderr)")
        // A barrier on the same topic: had the command been sent, it would have come first.
        let marker = try await harness.client("marker")
        try await marker.publish(topic: "test/node/led/set", payload: "marker", qos: .atLeastOnce)
        #expect(await recorder.waitFor("test/node/led/set", payload: "marker"))
        #expect(recorder.payloads(on: "test/node/led/set") == ["marker"])
        await marker.disconnect()
        await recorder.stop()
        await harness.stop()
    }

    @Test func anActuatorWithoutAStateTopicIsSentWithItsQoSAndRetain() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)

        let result = try await harness.run(["set", "node.buzzer", "on", "--broker", harness.url])

        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "node.buzzer: sent 'ON' to test/node/buzzer/set (no state topic to confirm it)\n")
        // Retained: a subscriber that comes later still gets it.
        let recorder = try await harness.recorder("test/node/buzzer/set")
        let message = await recorder.waitFor("test/node/buzzer/set")
        #expect(message?.payloadString == "ON")
        #expect(message?.retain == true)
        await recorder.stop()
        await harness.stop()
    }
}

/// A relay's state, shared with a handler that runs on another thread.
final class CLIMQTTRelayState: Sendable {
    private let isOn = Mutex(false)

    /// Flips the state and returns the new one as Tasmota spells it.
    func toggle() -> String {
        isOn.withLock { value in
            value.toggle()
            return value ? "ON" : "OFF"
        }
    }
}
