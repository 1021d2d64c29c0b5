import Foundation
import Testing

@Suite("homerules set with a number or a choice", .timeLimit(.minutes(5)))
struct SetValueCommandTests {
    /// A Zigbee2MQTT dimmable bulb: the light and its brightness share one
    /// command topic and one JSON state topic, as Zigbee2MQTT has them.
    static let devices = """
        id: desk-lamp
        convention: zigbee2mqtt
        actuators:
          light:
            command_topic: zigbee2mqtt/desk-lamp/set
            state_topic: zigbee2mqtt/desk-lamp
            state_path: state
            payloads: { on: '{"state":"ON"}', off: '{"state":"OFF"}' }
          brightness:
            type: number
            min: 0
            max: 254
            command_topic: zigbee2mqtt/desk-lamp/set
            command_template: '{"brightness": {{ value }}}'
            state_topic: zigbee2mqtt/desk-lamp
            state_path: brightness
        ---
        id: thermostat
        actuators:
          mode: { type: choice, options: [off, heat, auto], command_topic: heating/mode/set }
        """

    @Test func setSendsTheTemplatedValueAndTheSimulatedLampConfirmsIt() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let simulator = try harness.start(["simulate", "desk-lamp", "--broker", harness.url])
        defer { simulator.stop() }
        #expect(await CLIMQTTHarness.wait(for: simulator, toPrint: "simulating desk-lamp"), "\(simulator.output)")
        let recorder = try await harness.recorder("zigbee2mqtt/#")

        let dimmed = try await harness.run(["set", "desk-lamp.brightness", "40", "--broker", harness.url, "--timeout", "30s"])
        #expect(dimmed.status == 0, "\(dimmed.stderr)")
        #expect(dimmed.stdout.wholeMatch(of: /desk-lamp\.brightness is 40 \(confirmed in \d+ ms\)\n/) != nil, "\(dimmed.stdout)")
        let on = try await harness.run(["set", "desk-lamp.light", "on", "--broker", harness.url, "--timeout", "30s"])
        #expect(on.status == 0 && on.stdout.hasPrefix("desk-lamp.light is on (confirmed in "), "\(on)")

        #expect(await recorder.waitFor("zigbee2mqtt/desk-lamp", payload: #"{"state":"ON","brightness":40}"#))
        #expect(recorder.payloads(on: "zigbee2mqtt/desk-lamp/set") == [#"{"brightness": 40}"#, #"{"state":"ON"}"#])
        #expect(await CLIMQTTHarness.wait(for: simulator, toPrint: "desk-lamp.brightness is 40 (command '{\"brightness\": 40}')"),
                "\(simulator.output)")
        await recorder.stop()
        await harness.stop()
    }

    @Test(arguments: [
        (["set", "desk-lamp.brightness", "300"], "error: desk-lamp.brightness takes a number from 0 to 254; 300 is out of range"),
        (["set", "desk-lamp.brightness", "half"], "error: desk-lamp.brightness takes a number from 0 to 254; 'half' is not a number"),
        (["set", "thermostat.mode", "haet"],
         "error: thermostat.mode takes one of off, heat, auto; 'haet' is not one of them; did you mean 'heat'?"),
        (["toggle", "desk-lamp.brightness"],
         "error: cannot toggle desk-lamp.brightness: it takes a number from 0 to 254, not on and off\n"
             + "hint: use `homerules set desk-lamp.brightness VALUE`"),
    ])
    func aValueTheActuatorDoesNotTakeIsAUsageErrorBeforeAnythingIsSent(arguments: [String], message: String) async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let recorder = try await harness.recorder()
        let result = try await harness.run(arguments + ["--broker", harness.url])
        #expect(result.status == 64)
        #expect(result.stderr == message + "\n")
        // The barrier: a message of our own arrives after anything the command could have sent.
        let marker = try await harness.client("marker")
        try await marker.publish(topic: "test/marker", payload: "done", qos: .atLeastOnce, retain: false)
        #expect(await recorder.waitFor("test/marker", payload: "done"))
        #expect(recorder.payloads(on: "zigbee2mqtt/desk-lamp/set").isEmpty && recorder.payloads(on: "heating/mode/set").isEmpty)
        await marker.disconnect()
        await recorder.stop()
        await harness.stop()
    }

    @Test func withoutAStateTopicTheChoiceIsSentAndSaidSo() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let recorder = try await harness.recorder("heating/#")
        let result = try await harness.run(["set", "thermostat.mode", "HEAT", "--broker", harness.url])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "thermostat.mode: sent 'heat' to heating/mode/set (no state topic to confirm it)\n")
        #expect(await recorder.waitFor("heating/mode/set", payload: "heat"))
        await recorder.stop()
        await harness.stop()
    }
}
