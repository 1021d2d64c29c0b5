import EventLog
import Foundation
import HomeRules
import MQTTBroker
import TestSupport
import Testing

/// A reload is all or nothing: the new home is put in force only once the
/// bus is subscribed to its topics.
@Suite("homerules serve: reloads that fail", .timeLimit(.minutes(5)))
struct DaemonReloadTests {
    @Test func aReloadWhoseSubscriptionsFailLeavesThePreviousHomeInForce() async throws {
        // A real broker over TCP whose ACL lets the daemon read home/... and homerules/... only: a subscription to
        // anything else gets SUBACK 0x80.
        let directory = try TemporaryDirectory()
        let acl = directory.file("acl")
        try "topic readwrite home/#\ntopic readwrite homerules/#\n".write(to: acl, atomically: true, encoding: .utf8)
        let broker = MQTTBroker(
            configuration: BrokerConfiguration(
                listeners: [.init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: true, aclFile: acl.path))],
                systemTopicInterval: nil),
            logger: quietLogger)
        try await broker.start()
        do {
            let port = try #require(broker.boundAddresses.first?.port)
            try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules, externalPort: port) { harness in
                // The new rules would raise the threshold, and watch a topic the daemon may not read.
                try harness.writeRule("node.yaml", """
                    - id: hot-led
                      when: { sensor: node.temperature, above: 50 }
                      then:
                        - { set: node.led, to: on }
                    - id: door
                      when: { mqtt: secret/door }
                      then:
                        - publish: { topic: home/alerts, payload: door }
                    """)
                let events = try await harness.waitForEvents { events in
                    events.contains { $0.kind == .reload && $0.detail?.hasPrefix("files changed: refused") == true }
                        && events.contains { $0.kind == .error }
                }
                let refusal = try #require(events.last { $0.kind == .reload })
                #expect(refusal.detail == "files changed: refused, 1 error(s); keeping the rules in force")
                #expect(events.last { $0.kind == .error }?.detail?.contains("secret/door") == true)

                // The rules in force are the previous ones: 29.5 is above their 28.
                let device = try await TestDevice.connect(id: "node", port: port)
                try await device.publish("home/node/temperature", "25")
                try await device.publish("home/node/temperature", "29.5")
                #expect(try await device.waitForMessage(on: "home/node/led/set").payloadString == "on")
                await device.disconnect()
            }
        } catch {
            await broker.shutdown()
            throw error
        }
        await broker.shutdown()
    }

    @Test func aRuleFollowingTheSunWithoutALocationIsReported() async throws {
        var rules = TestHome.rules
        rules["sun.yaml"] = "- id: dusk\n  when: { sun: sunset, offset: -30m }\n  then:\n    - { set: node.led, to: on }\n"
        try await DaemonHarness.with(devices: TestHome.devices, rules: rules) { harness in
            let events = try await harness.waitForEvents { events in events.contains { $0.kind == .error } }
            let error = try #require(events.last { $0.kind == .error })
            #expect(error.rule == "dusk")
            #expect(error.detail == "rule dusk follows the sun, which needs 'latitude' and 'longitude' in the settings file; until then it never fires")
        }
    }

    @Test func aRefusedFileIsLoggedOnceAsAnErrorAtItsPlace() async throws {
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules) { harness in
            try harness.writeRule("typo.yaml", "- id: r\n  when: { sensor: node.temprature, above: 3 }\n  then:\n    - { set: node.led, to: on }\n")
            let events = try await harness.waitForEvents { events in events.contains { $0.kind == .error } }
            // The event's kind says it is an error: its detail does not say so again ("error: ...: error: ...").
            let error = try #require(events.last { $0.kind == .error })
            #expect(error.detail == "\(harness.directory.path)/rules/typo.yaml:2:19: device 'node' has no sensor 'temprature'; did you mean 'temperature'?")
        }
    }
}
