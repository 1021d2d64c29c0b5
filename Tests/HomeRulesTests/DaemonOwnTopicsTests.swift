import EventLog
import Foundation
import HomeRules
import TestSupport
import Testing

/// The daemon's own publications (`homerules/events/<kind>`,
/// `homerules/status`, and with the embedded broker its commands too) never
/// come back to it as input, so a rule on `#` cannot make it feed on itself.
@Suite("homerules serve never hears its own voice", .timeLimit(.minutes(5)))
struct DaemonOwnTopicsTests {
    /// A catch-all rule, as a user who wants an alert for everything writes it.
    static let catchAll = ["catch-all.yaml": """
        - id: catch-all
          when: { mqtt: "#" }
          then:
            - publish: { topic: lab/seen, payload: "{{ trigger.topic }}" }
        """]

    /// The same with a payload, so that the echo of its own publication
    /// (which MQTT 3.1.1 cannot suppress on an external broker) does not fire it.
    static let catchPing = ["catch-ping.yaml": """
        - id: catch-ping
          when: { mqtt: "#", payload: ping }
          then:
            - publish: { topic: lab/seen, payload: "{{ trigger.topic }}" }
        """]

    @Test func aCatchAllRuleAndOneMessageGiveTheMessageTheDecisionAndTheAction() async throws {
        try await DaemonHarness.with(devices: [:], rules: Self.catchAll) { harness in
            let device = try await TestDevice.connect(id: "lab", port: harness.port)
            try await device.publish("lab/in", "hello")
            // A barrier on the same path: anything the first message caused is logged before it.
            _ = try await harness.waitForEvents { $0.contains { $0.kind == .action && $0.payload == "lab/in" } }
            try await device.publish("lab/barrier", "hello")
            let events = try await harness.waitForEvents { $0.contains { $0.kind == .action && $0.payload == "lab/barrier" } }

            #expect(Self.story(events) == [
                "message lab/in", "rule_fired catch-all", "action lab/seen=lab/in",
                "message lab/barrier", "rule_fired catch-all", "action lab/seen=lab/barrier",
            ])
            #expect(try await device.waitForMessage(on: "lab/seen") { $0 == "lab/barrier" }.payloadString == "lab/barrier")
            await device.disconnect()
        }
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func withAnExternalBrokerTheDaemonsOwnTopicsNeverComeBack() async throws {
        let mosquitto = try await MosquittoBroker.start()
        try await DaemonHarness.with(devices: [:], rules: Self.catchPing, externalPort: mosquitto.port) { harness in
            let device = try await TestDevice.connect(id: "lab", port: mosquitto.port)
            try await device.publish("lab/in", "ping")
            _ = try await device.waitForMessage(on: "lab/seen")
            _ = try await device.waitForMessage(on: "homerules/events/action")
            try await device.publish("lab/barrier", "ping")
            let events = try await harness.waitForEvents { $0.contains { $0.kind == .action && $0.payload == "lab/barrier" } }

            // The action's echo is heard (no No Local in MQTT 3.1.1) and skipped by the rule; the events
            // published on homerules/... are not heard. The barrier's own echo may follow.
            #expect(Self.story(events).prefix(8) == [
                "message lab/in", "rule_fired catch-ping", "action lab/seen=lab/in",
                "message lab/seen", "rule_skipped catch-ping",
                "message lab/barrier", "rule_fired catch-ping", "action lab/seen=lab/barrier",
            ])
            await device.disconnect()
        }
    }

    @Test func rulesCheckRefusesInputFromTheDaemonsOwnTopicsAndAcceptsCatchAlls() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("devices"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.file("rules"), withIntermediateDirectories: true)
        try "id: spy\nname: Spy\nsensors:\n  status: { topic: homerules/status, type: string }\n"
            .write(to: directory.file("devices/spy.yaml"), atomically: true, encoding: .utf8)
        try """
            - id: echo
              when: { mqtt: "homerules/events/+" }
              then:
                - publish: { topic: lab/out, payload: x }
            - id: everything
              when: { mqtt: "#" }
              then:
                - publish: { topic: lab/out, payload: x }
            - id: any-status
              when: { mqtt: "+/status" }
              then:
                - publish: { topic: lab/out, payload: x }
            """.write(to: directory.file("rules/r.yaml"), atomically: true, encoding: .utf8)
        let result = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr == """
            devices/spy.yaml:4:20: error: 'homerules/status' is in the daemon's own topic space (homerules/...), \
            where only it publishes; nothing there comes back to it as input
            rules/r.yaml:2:17: error: 'homerules/events/+' is in the daemon's own topic space (homerules/...), \
            where only it publishes; nothing there comes back to it as input

            """)
    }

    /// The events after the start, one line each: `kind topic` for messages,
    /// `kind rule` for decisions, `kind topic=payload` for actions.
    static func story(_ events: [Event]) -> [String] {
        events.filter { $0.kind != .reload }.map { event in
            switch event.kind {
            case .message: "message \(event.topic ?? "")"
            case .action: "action \(event.topic ?? "")=\(event.payload ?? "")"
            default: "\(event.kind.rawValue) \(event.rule ?? event.detail ?? "")"
            }
        }
    }
}
