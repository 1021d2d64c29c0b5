import EventLog
import Foundation
import HomeRules
import Rules
import MQTT
@_spi(Testing) import MQTTClient
import NIOCore
import TestSupport
import Testing

/// A small home: the ESP8266 of the project's origin and two rules.
enum TestHome {
    static let devices = ["node.yaml": """
        id: node
        name: Test node
        presence: { topic: home/node/status, online: online, offline: offline }
        sensors:
          temperature: { topic: home/node/temperature, type: number }
        actuators:
          led:
            command_topic: home/node/led/set
            state_topic: home/node/led
            payloads: { on: "on", off: "off" }
        """]

    static let rules = ["node.yaml": """
        - id: hot-led
          when: { sensor: node.temperature, above: 28 }
          then:
            - { set: node.led, to: on }
          otherwise:
            - { set: node.led, to: off }
        - id: node-lost
          when: { device: node, goes: offline }
          then:
            - publish: { topic: home/alerts, payload: "{{ device.name }} went offline" }
        """]

    /// A third rule, for reloads.
    static let coldRule = """
        - id: cold-led
          when: { sensor: node.temperature, below: 10 }
          then:
            - { set: node.led, to: off }
        """

    static let will = Will(topic: "home/node/status", payload: ByteBuffer(string: "offline"), qos: .atLeastOnce, retain: true)
}

@Suite("homerules serve, in process", .timeLimit(.minutes(5)))
struct DaemonTests {
    @Test func aThresholdCrossingSwitchesTheLEDAndTheCauseChainIsLogged() async throws {
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules) { harness in
            let device = try await TestDevice.connect(id: "node", port: harness.port, will: TestHome.will)
            try await device.publish("home/node/status", "online", retain: true)
            try await device.publish("home/node/temperature", "25")
            try await device.publish("home/node/temperature", "29.5")

            let command = try await device.waitForMessage(on: "home/node/led/set")
            #expect(command.payloadString == "on")
            try await device.publish("home/node/led", "on", retain: true)

            let events = try await harness.waitForEvents { events in
                events.contains { $0.kind == .action } && events.contains { $0.kind == .message && $0.topic == "home/node/led" }
            }
            let action = try #require(events.first { $0.kind == .action })
            #expect(action.device == "node" && action.entity == "led" && action.payload == "on" && action.rule == "hot-led")
            let chain = try harness.database().causeChain(of: action.id)
            #expect(chain.map(\.kind) == [.action, .ruleFired, .message])
            #expect(chain[1].detail?.contains("29.5") == true)
            #expect(chain[2].payload == "29.5" && chain[2].entity == "temperature")

            let devices = try await harness.waitForDevices { $0.first?.actuators.first?.value == "on" }
            #expect(devices.first?.state.presence == "online")
            #expect(devices.first?.sensors.first?.value == "29.5")

            // Cooling down runs `otherwise`, logged as such and not as a firing.
            try await device.publish("home/node/temperature", "20")
            #expect(try await device.waitForMessage(on: "home/node/led/set") { $0 == "off" }.payloadString == "off")
            let cooled = try await harness.waitForEvents { events in events.filter { $0.kind == .action }.count == 2 }
            let off = try #require(cooled.last { $0.kind == .action })
            let offChain = try harness.database().causeChain(of: off.id)
            #expect(offChain.map(\.kind) == [.action, .ruleOtherwise, .message])
            #expect(offChain[1].detail == "temperature 20 is no longer above 28")

            await device.disconnect()
        }
    }

    @Test func theSimulatorDrivesTheRulesEndToEnd() async throws {
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules) { harness in
            let home = try HomeLoader.loadDevices(from: harness.directory.file("devices")).get()
            let node = try #require(home.device(id: "node"))
            var broker = MQTTClientConfiguration(host: "127.0.0.1", port: harness.port)
            broker.reconnect = .disabled
            let simulated = try SimulatedDevice(device: node, broker: broker, logger: quietLogger)
            try await simulated.connect()
            try await simulated.publish(.number(21), to: "temperature")
            try await simulated.publish(.number(30), to: "temperature")

            // The rule commands the LED; the simulated ESP8266 obeys and echoes its state.
            let events = try await harness.waitForEvents { events in
                events.contains { $0.kind == .message && $0.topic == "home/node/led" && $0.payload == "on" }
            }
            #expect(await simulated.actuatorStates["led"] == .on)
            let action = try #require(events.first { $0.kind == .action })
            #expect(try harness.database().causeChain(of: action.id).map(\.kind) == [.action, .ruleFired, .message])
            await simulated.goOffline()
        }
    }

    @Test func theDaemonAnnouncesItselfAndItsEvents() async throws {
        let watcher = try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules) { harness in
            let watcher = try await TestDevice.connect(id: "watcher", port: harness.port)
            #expect(try await watcher.waitForMessage(on: "homerules/status").payloadString == "online")
            let device = try await TestDevice.connect(id: "node", port: harness.port)
            try await device.publish("home/node/status", "online")
            let presence = try await watcher.waitForMessage(on: "homerules/events/presence")
            let event = try Event.fromJSON(Data(presence.payloadString.utf8))
            #expect(event.device == "node" && event.payload == "online")
            await device.disconnect()
            return watcher
        }
        #expect(try await watcher.waitForMessage(on: "homerules/status") { $0 == "offline" }.retain == false)
        await watcher.disconnect()
    }

    @Test func aDeviceThatVanishesGoesOfflineAndTheAlertRuleFires() async throws {
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules) { harness in
            let watcher = try await TestDevice.connect(id: "watcher", port: harness.port)
            let device = try await TestDevice.connect(id: "node", port: harness.port, will: TestHome.will)
            try await device.publish("home/node/status", "online", retain: true)
            _ = try await harness.waitForEvents { $0.contains { $0.kind == .presence && $0.payload == "online" } }
            device.client.dropConnection()

            let alert = try await watcher.waitForMessage(on: "home/alerts")
            #expect(alert.payloadString == "Test node went offline")
            let events = try await harness.waitForEvents { $0.contains { $0.kind == .presence && $0.payload == "offline" } }
            #expect(events.contains { $0.kind == .ruleFired && $0.rule == "node-lost" })
            // The device table is written after the presence event, maybe in the next batch.
            _ = try await harness.waitForDevices { $0.first?.state.presence == "offline" }
            await watcher.disconnect()
        }
    }

    @Test func aGoodReloadTakesEffectAndABadOneKeepsTheRulesInForce() async throws {
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules) { harness in
            let device = try await TestDevice.connect(id: "node", port: harness.port)
            try harness.writeRule("cold.yaml", TestHome.coldRule)
            _ = try await harness.waitForEvents { $0.contains { $0.kind == .reload && $0.detail?.contains("3 rules") == true } }

            try harness.writeRule("broken.yaml", "- id: broken\n  when: { sensor: node.temprature, above: 1 }\n  then: []\n")
            // The refusal and its error are two entries, which may land in two batches.
            let events = try await harness.waitForEvents {
                $0.contains { $0.kind == .reload && $0.detail?.contains("refused") == true } && $0.contains { $0.kind == .error }
            }
            let error = try #require(events.last { $0.kind == .error })
            #expect(error.detail?.contains("broken.yaml:2:") == true)
            #expect(error.detail?.contains("temprature") == true)

            // The rules loaded before the broken file still run.
            try await device.publish("home/node/temperature", "20")
            try await device.publish("home/node/temperature", "5")
            #expect(try await device.waitForMessage(on: "home/node/led/set").payloadString == "off")
            await device.disconnect()
        }
    }
}
