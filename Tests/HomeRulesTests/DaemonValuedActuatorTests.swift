import EventLog
import Foundation
@_spi(Testing) import HomeRules
import TestSupport
import Testing

@Suite("homerules serve sets numbers, and why tells it", .timeLimit(.minutes(5)))
struct DaemonValuedActuatorTests {
    @Test func aRuleSetsTheBrightnessAndWhySaysSoWithTheEchoedValue() async throws {
        let rules = ["lamp.yaml": """
            - id: dim-at-night
              when: { mqtt: buttons/night }
              then:
                - set: desk-lamp.brightness
                  to: 40
            """]
        try await DaemonHarness.with(devices: ["desk-lamp.yaml": zigbeeDeskLamp], rules: rules) { harness in
            let lamp = try await TestDevice.connect(id: "desk-lamp", port: harness.port)
            try await lamp.publish("buttons/night", "go")
            let command = try await lamp.waitForMessage(on: "zigbee2mqtt/desk-lamp/set")
            #expect(command.payloadString == #"{"brightness": 40}"#)
            // The bulb answers as Zigbee2MQTT does: its whole state, as JSON.
            try await lamp.publish("zigbee2mqtt/desk-lamp", #"{"state":"ON","brightness":40}"#)
            let events = try await harness.waitForEvents { events in
                events.contains { $0.kind == .message && $0.payload?.contains(#""brightness":40"#) == true }
            }
            #expect(events.first { $0.kind == .action }?.detail == "set desk-lamp.brightness 40")
            let devices = try await harness.waitForDevices { $0.first?.sensors.contains { $0.entity == "brightness" } == true }
            #expect(devices.first?.sensors.first { $0.entity == "brightness" }?.value == "40")

            let why = try await HomeRulesBinary.run(
                ["why", "desk-lamp.brightness", "--devices", "devices", "--database", harness.databasePath], in: harness.directory.path)
            #expect(why.status == 0, "\(why.stderr)")
            #expect(why.stdout.hasPrefix("desk-lamp.brightness is 40 (reported at "), "\(why.stdout)")
            #expect(why.stdout.contains("desk-lamp.brightness was set 40 at "), "\(why.stdout)")
            await lamp.disconnect()
        }
    }
}
