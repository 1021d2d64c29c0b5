import Foundation
import MQTT
import MQTTClient
import TestSupport
import Testing

@Suite("homerules simulate", .timeLimit(.minutes(5)))
struct SimulateCommandTests {
    static let devices = """
        id: node
        presence: { topic: sim/node/status }
        sensors:
          temperature: { topic: sim/node/temperature, type: number, unit: "°C" }
          door: { topic: sim/node/door, type: boolean, payloads: { on: OPEN, off: CLOSED } }
        actuators:
          led: { command_topic: sim/node/led/set, state_topic: sim/node/led, payloads: { on: "on", off: "off" } }
        ---
        id: plug
        convention: tasmota
        sensors:
          power: { topic: tele/plug/SENSOR, type: number, path: ENERGY.Power, unit: W }
        actuators:
          relay: { command_topic: cmnd/plug/POWER, state_topic: stat/plug/POWER, payloads: { on: "ON", off: "OFF", toggle: "TOGGLE" } }
        ---
        id: bedroom
        convention: zigbee2mqtt
        sensors:
          temperature: { topic: zigbee2mqtt/bedroom, type: number, path: temperature }
          humidity: { topic: zigbee2mqtt/bedroom, type: number, path: humidity }
        ---
        id: shelly1
        convention: shelly
        ---
        id: porch
        presence: { convention: homie, node: porch-light }
        """

    /// Presence topic to (online, offline) payload, as each firmware spells them.
    static let presence: [String: (online: String, offline: String)] = [
        "sim/node/status": ("online", "offline"),
        "tele/plug/LWT": ("Online", "Offline"),
        "zigbee2mqtt/bedroom/availability": (#"{"state":"online"}"#, #"{"state":"offline"}"#),
        "shellies/shelly1/online": ("true", "false"),
        "homie/porch-light/$state": ("ready", "lost"),
    ]

    static let fixedValues = [
        "--mean", "node.temperature=25", "--spread", "node.temperature=0",
        "--mean", "humidity=40", "--spread", "humidity=0",
        "--mean", "plug.power=12.5", "--spread", "plug.power=0",
    ]

    /// Starts the simulator and waits until every device announced itself.
    static func startSimulator(_ harness: CLIMQTTHarness, url: String? = nil) async throws -> BackgroundProcess {
        let simulator = try harness.start(["simulate", "--broker", url ?? harness.url, "--interval", "200ms"] + fixedValues)
        #expect(await CLIMQTTHarness.wait(for: simulator, toPrint: "simulating"), "\(simulator.output)")
        return simulator
    }

    static func expectOffline(_ recorder: CLIMQTTRecorder) async {
        for (topic, payloads) in presence {
            #expect(await recorder.waitFor(topic, payload: payloads.offline), "\(topic): \(recorder.payloads(on: topic))")
        }
    }

    @Test func devicesComeOnlinePublishValuesAndObeyCommands() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let simulator = try await Self.startSimulator(harness)
        // Subscribed after the births: they must have been retained.
        let recorder = try await harness.recorder()

        for (topic, payloads) in Self.presence {
            let birth = await recorder.waitFor(topic)
            #expect(birth?.payloadString == payloads.online, "\(topic)")
            #expect(birth?.retain == true, "\(topic)")
        }
        #expect(await recorder.waitFor("sim/node/led", payload: "off"))
        #expect(await recorder.waitFor("stat/plug/POWER", payload: "OFF"))
        #expect(await recorder.waitFor("sim/node/temperature", payload: "25"))
        #expect(await recorder.waitFor("tele/plug/SENSOR", payload: #"{"ENERGY":{"Power":12.5}}"#))
        let bedroom = await recorder.waitFor("zigbee2mqtt/bedroom")
        let reading = try JSONSerialization.jsonObject(with: Data((bedroom?.payloadString ?? "").utf8)) as? [String: Double]
        #expect(reading?["humidity"] == 40)
        #expect(reading?["temperature"].map { (20...24).contains($0) } == true, "\(String(describing: reading))")
        #expect(await recorder.waitFor("sim/node/door") { ["OPEN", "CLOSED"].contains($0.payloadString) } != nil)

        let controller = try await harness.client("controller")
        try await controller.publish(topic: "sim/node/led/set", payload: "on", qos: .atLeastOnce)
        try await controller.publish(topic: "cmnd/plug/POWER", payload: "TOGGLE", qos: .atLeastOnce)
        #expect(await recorder.waitFor("sim/node/led", payload: "on"))
        #expect(await recorder.waitFor("stat/plug/POWER", payload: "ON"))
        #expect(await CLIMQTTHarness.wait(for: simulator, toPrint: "node.led is on (command 'on')"), "\(simulator.output)")

        // `set` against the simulator: the echo comes from it.
        let set = try await harness.run(["set", "plug.relay", "off", "--broker", harness.url])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.hasPrefix("plug.relay is off (confirmed in "), "\(set.stdout)")

        // The echoes were retained, as Tasmota retains them here.
        let late = try await harness.recorder("+/+/+")
        #expect(await late.waitFor("sim/node/led", payload: "on"))
        #expect(await late.waitFor("stat/plug/POWER", payload: "OFF"))

        simulator.kill9()
        await Self.expectOffline(recorder)
        await controller.disconnect()
        await late.stop()
        await recorder.stop()
        await harness.stop()
    }

    @Test func sigkillLeavesItToTheWills() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let simulator = try await Self.startSimulator(harness)
        let recorder = try await harness.recorder()
        #expect(await recorder.waitFor("homie/porch-light/$state", payload: "ready"))

        simulator.kill9()

        await Self.expectOffline(recorder)
        #expect(!simulator.output.contains("is offline"), "the simulator had no chance to say so itself")
        await recorder.stop()
        await harness.stop()
    }

    @Test func sigtermAnnouncesEveryDeviceOfflineAndExits0() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let simulator = try await Self.startSimulator(harness)
        let recorder = try await harness.recorder()
        #expect(await recorder.waitFor("homie/porch-light/$state", payload: "ready"))

        #expect(await CLIMQTTHarness.send(SIGTERM, to: simulator) == 0)

        await Self.expectOffline(recorder)
        #expect(simulator.output.contains("porch is offline"), "\(simulator.output)")
        // Retained: a newcomer learns that the devices are gone.
        let late = try await harness.recorder()
        await Self.expectOffline(late)
        await late.stop()
        await recorder.stop()
        await harness.stop()
    }

    @Test func onlyTheNamedDevicesAreSimulated() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let simulator = try harness.start(["simulate", "shelly1", "--broker", harness.url])
        #expect(await CLIMQTTHarness.wait(for: simulator, toPrint: "simulating shelly1 on"), "\(simulator.output)")
        let recorder = try await harness.recorder()
        #expect(await recorder.waitFor("shellies/shelly1/online", payload: "true"))
        #expect(await CLIMQTTHarness.send(SIGINT, to: simulator) == 0)
        #expect(await recorder.waitFor("shellies/shelly1/online", payload: "false"))
        // Its last message is the barrier: anything it published on sim/node/... came before.
        #expect(recorder.payloads(on: "sim/node/status").isEmpty)
        await recorder.stop()
        await harness.stop()
    }

    @Test(arguments: [
        (["nod"], "error: unknown device 'nod'; did you mean 'node'?"),
        (["--mean", "node.temprature=20"], "error: --mean node.temprature: no simulated number sensor has that name; did you mean 'node.temperature'?"),
        (["shelly1", "--spread", "humidity=1"], "error: --spread humidity: no simulated number sensor has that name"),
        (["--ramp", "temprature=20..30"], "error: --ramp temprature: no simulated number sensor has that name; did you mean 'temperature'?"),
    ])
    func unknownNamesExitWith2(arguments: [String], message: String) async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices)
        let result = try await harness.run(["simulate"] + arguments + ["--broker", harness.url])
        #expect(result.status == 2)
        #expect(result.stderr == message + "\n")
        await harness.stop()
    }

    @Test func anUnreachableBrokerExitsWith3() async throws {
        let harness = try await CLIMQTTHarness(devices: Self.devices, port: try freeLoopbackPort())
        let result = try await harness.run(["simulate", "--broker", harness.url], timeout: .seconds(20))
        #expect(result.status == 3)
        #expect(result.stderr.hasPrefix("error: cannot reach the MQTT broker at 127.0.0.1:\(harness.port)"), "\(result.stderr)")
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func withMosquittoSetIsConfirmedAndKilledDevicesGoOffline() async throws {
        _ = try Peers.require("mosquitto")
        let mosquitto = try await MosquittoBroker.start()
        let harness = try await CLIMQTTHarness(devices: Self.devices, port: mosquitto.port)
        let simulator = try await Self.startSimulator(harness, url: mosquitto.url)
        let recorder = try await harness.recorder()
        #expect(await recorder.waitFor("tele/plug/LWT", payload: "Online"))

        let set = try await harness.run(["set", "node.led", "on", "--broker", mosquitto.url])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.hasPrefix("node.led is on (confirmed in "), "\(set.stdout)")
        let toggle = try await harness.run(["toggle", "node.led", "--broker", mosquitto.url])
        #expect(toggle.stdout.hasPrefix("node.led is off (confirmed in "), "\(toggle.stdout)\(toggle.stderr)")

        simulator.kill9()
        await Self.expectOffline(recorder)
        await recorder.stop()
        mosquitto.stop()
    }
}
