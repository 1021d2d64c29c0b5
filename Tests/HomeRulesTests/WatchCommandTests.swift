import EventLog
import Foundation
import MQTT
import MQTTClient
import TestSupport
import Testing

@Suite("homerules watch", .timeLimit(.minutes(5)))
struct WatchCommandTests {
    /// Publishes events as the daemon does: JSON on homerules/events/<kind>.
    static func publish(_ events: [Event], with client: MQTTClient) async throws {
        for event in events {
            try await client.publish(topic: event.mqttTopic, payload: String(decoding: event.json(), as: UTF8.self))
        }
    }

    static let time = Date(timeIntervalSince1970: 1_740_863_050.25)

    @Test func showsEventsAndTheDaemonsStatusUntilInterrupted() async throws {
        let harness = try await CLIMQTTHarness(devices: "")
        let daemon = try await harness.client("daemon")
        try await daemon.publish(topic: "homerules/status", payload: "online", qos: .atLeastOnce, retain: true)
        let watch = try harness.start(["watch", "--broker", harness.url])
        #expect(await CLIMQTTHarness.wait(for: watch, toPrint: "watching homerules/events/#"), "\(watch.output)")

        try await Self.publish([
            Event(id: 1, time: Self.time, kind: .message, device: "node", entity: "temperature",
                  topic: "home/node/temperature", payload: "29.5"),
            Event(id: 2, time: Self.time, kind: .ruleFired, rule: "hot", detail: "temperature 29.5 is above 28", cause: 1),
            Event(id: 3, time: Self.time, kind: .action, device: "node", entity: "led", topic: "home/node/led/set",
                  payload: "on", rule: "hot", detail: "set led on", cause: 2),
            Event(id: 4, time: Self.time, kind: .presence, device: "plug", payload: "offline",
                  detail: "announced 'Offline' on tele/plug/LWT"),
        ], with: daemon)
        try await daemon.publish(topic: "homerules/status", payload: "offline", qos: .atLeastOnce, retain: true)

        #expect(await CLIMQTTHarness.wait(for: watch, toPrint: "daemon is offline"), "\(watch.output)")
        let lines = watch.output.split(separator: "\n").map(String.init)
        let expected = [
            "daemon is online",
            "node.temperature = 29.5",
            "rule hot fired: temperature 29.5 is above 28",
            "action node.led: set led on (home/node/led/set 'on', rule hot)",
            "plug is offline (announced 'Offline' on tele/plug/LWT)",
            "daemon is offline",
        ]
        // Each line is a clock time and the text, in the order things happened.
        let texts = lines.filter { $0.first?.isNumber == true }.map { String($0.drop { $0 != " " }.dropFirst()) }
        #expect(texts == expected, "\(watch.output)")
        #expect(await CLIMQTTHarness.send(SIGINT, to: watch) == 0)
        await daemon.disconnect()
        await harness.stop()
    }

    @Test func sensorValuesAreShownDecodedOnePerSensorWithTheirUnits() async throws {
        let harness = try await CLIMQTTHarness(devices: """
            id: bedroom
            sensors:
              temperature: { topic: z2m/bedroom, type: number, path: temperature, unit: "°C" }
              humidity: { topic: z2m/bedroom, type: number, path: humidity, unit: "%" }
            ---
            id: plug
            sensors:
              power: { topic: tele/plug/SENSOR, type: number, path: ENERGY.Power, unit: W }
            """)
        let daemon = try await harness.client("daemon")
        let watch = try harness.start(["watch", "--broker", harness.url])
        #expect(await CLIMQTTHarness.wait(for: watch, toPrint: "watching homerules/events/#"), "\(watch.output)")
        try await Self.publish([
            Event(id: 1, time: Self.time, kind: .message, device: "bedroom", topic: "z2m/bedroom",
                  payload: #"{"temperature":19.5,"humidity":48,"linkquality":120}"#),
            Event(id: 2, time: Self.time, kind: .message, device: "plug", entity: "power", topic: "tele/plug/SENSOR",
                  payload: #"{"ENERGY":{"Power":61.9}}"#),
            // A payload that reads as no sensor's value is shown as sent.
            Event(id: 3, time: Self.time, kind: .message, device: "plug", entity: "power", topic: "tele/plug/SENSOR",
                  payload: "garbled"),
            Event(id: 4, time: Self.time, kind: .ruleFired, rule: "marker"),
        ], with: daemon)
        #expect(await CLIMQTTHarness.wait(for: watch, toPrint: "rule marker fired"), "\(watch.output)")
        let texts = watch.output.split(separator: "\n").filter { $0.first?.isNumber == true }
            .map { String($0.drop { $0 != " " }.dropFirst()) }
        #expect(texts.dropFirst() == [
            "bedroom.temperature = 19.5 °C", "bedroom.humidity = 48 %", "plug.power = 61.9 W", "plug.power = garbled",
            "rule marker fired",
        ], "\(watch.output)")
        #expect(await CLIMQTTHarness.send(SIGINT, to: watch) == 0)
        await daemon.disconnect()
        await harness.stop()
    }

    @Test func aNamedDeviceDirectoryThatDoesNotExistStopsItBeforeConnecting() async throws {
        let harness = try await CLIMQTTHarness(devices: "", port: try freeLoopbackPort())
        let result = try await harness.run(["watch", "--devices", "nowhere", "--broker", harness.url])
        #expect(result.status == 1)
        #expect(result.stderr == "error: --devices nowhere: no such directory\n")
    }

    @Test func devicesFilterEventsAndFollowTheirCauses() async throws {
        let harness = try await CLIMQTTHarness(devices: "")
        let daemon = try await harness.client("daemon")
        let watch = try harness.start(["watch", "node", "--broker", harness.url])
        #expect(await CLIMQTTHarness.wait(for: watch, toPrint: "watching"), "\(watch.output)")

        try await Self.publish([
            Event(id: 1, time: Self.time, kind: .message, device: "other", entity: "temperature", topic: "t/other", payload: "40"),
            Event(id: 2, time: Self.time, kind: .message, device: "node", entity: "temperature", topic: "t/node", payload: "29"),
            Event(id: 3, time: Self.time, kind: .ruleFired, rule: "node-hot", detail: "node is hot", cause: 2),
            Event(id: 4, time: Self.time, kind: .action, device: "fan", entity: "relay", topic: "fan/set", payload: "on",
                  rule: "node-hot", detail: "set relay on", cause: 3),
            Event(id: 5, time: Self.time, kind: .ruleFired, rule: "other-hot", detail: "other is hot", cause: 1),
            Event(id: 6, time: Self.time, kind: .ruleSkipped, rule: "nightly", detail: "not yet 22:00"),
            Event(id: 7, time: Self.time, kind: .presence, device: "other", payload: "offline"),
            Event(id: 8, time: Self.time, kind: .presence, device: "node", payload: "offline"),
        ], with: daemon)

        #expect(await CLIMQTTHarness.wait(for: watch, toPrint: "node is offline"), "\(watch.output)")
        let output = watch.output
        #expect(output.contains("node.temperature = 29"))
        #expect(output.contains("rule node-hot fired: node is hot"))
        #expect(output.contains("action fan.relay: set relay on"))
        for absent in ["other.temperature", "other-hot", "nightly", "other is offline"] {
            #expect(!output.contains(absent), "\(absent) in \(output)")
        }
        #expect(await CLIMQTTHarness.send(SIGTERM, to: watch) == 0)
        await daemon.disconnect()
        await harness.stop()
    }

    @Test func jsonPrintsOneEventPerLineAndNothingElse() async throws {
        let harness = try await CLIMQTTHarness(devices: "")
        let daemon = try await harness.client("daemon")
        let (watch, standardError) = try harness.startSeparatingStandardError(["watch", "--json", "--broker", harness.url])
        let errors = { (try? String(contentsOf: standardError, encoding: .utf8)) ?? "" }
        #expect(await CLIMQTTHarness.eventually { errors().contains("watching") }, "\(errors())")

        let events = [
            Event(id: 10, time: Self.time, kind: .presence, device: "node", payload: "online", detail: "announced 'online'"),
            Event(id: 11, time: Self.time, kind: .reload, detail: "1 device, 1 sensor, 1 actuator, 1 rule"),
        ]
        try await Self.publish(events, with: daemon)
        try await daemon.publish(topic: "homerules/status", payload: "online", qos: .atLeastOnce, retain: true)

        #expect(await CLIMQTTHarness.eventually { watch.output.split(separator: "\n").count == 2 }, "\(watch.output)")
        let decoded = try watch.output.split(separator: "\n").map { try Event.fromJSON(Data($0.utf8)) }
        #expect(decoded == events)
        #expect(await CLIMQTTHarness.eventually { errors().contains("daemon is online") }, "\(errors())")
        #expect(await CLIMQTTHarness.send(SIGINT, to: watch) == 0)
        #expect(watch.output.split(separator: "\n").count == 2)
        await daemon.disconnect()
        await harness.stop()
    }

    @Test func saysWhenTheDaemonNeverAnnouncedItselfAndSkipsWhatIsNotAnEvent() async throws {
        let harness = try await CLIMQTTHarness(devices: "")
        let daemon = try await harness.client("daemon")
        let watch = try harness.start(["watch", "--broker", harness.url])
        #expect(await CLIMQTTHarness.wait(for: watch, toPrint: "daemon status unknown"), "\(watch.output)")

        try await daemon.publish(topic: "homerules/events/message", payload: "not json")
        try await Self.publish([Event(id: 1, time: Self.time, kind: .error, rule: "r", detail: "boom")], with: daemon)

        #expect(await CLIMQTTHarness.wait(for: watch, toPrint: "error (rule r): boom"), "\(watch.output)")
        #expect(watch.output.contains("ignored a message on homerules/events/message that is not an event: not json"))
        #expect(await CLIMQTTHarness.send(SIGINT, to: watch) == 0)
        await daemon.disconnect()
        await harness.stop()
    }

    @Test func anUnreachableBrokerExitsWith3() async throws {
        let harness = try await CLIMQTTHarness(devices: "", port: try freeLoopbackPort())
        let result = try await harness.run(["watch", "--broker", harness.url], timeout: .seconds(20))
        #expect(result.status == 3)
        #expect(result.stderr.hasPrefix("error: cannot reach the MQTT broker at 127.0.0.1:\(harness.port)"), "\(result.stderr)")
    }
}
