import EventLog
import Foundation
import TestSupport
import Testing

/// `homerules rules list | enable | disable | run` against a running
/// `homerules serve` on the example home.
@Suite("homerules rules list, enable, disable, run", .timeLimit(.minutes(5)))
struct RulesControlTests {
    @Test func aRuleIsDisabledUntilEnabledAcrossRestartsAndRunByHand() async throws {
        let home = try ExampleHomeRun()
        func homerules(_ arguments: [String]) async throws -> ProcessResult { try await home.homerules(arguments) }

        var (serve, broker) = try await home.serve()
        defer { serve.stop() }

        let listed = try await homerules(["rules", "list"])
        #expect(listed.stdout.hasPrefix("RULE               ENABLED  LATEST DECISION\n"), "\(listed)")
        #expect(listed.stdout.contains("hot-room-led       yes      –\n"))

        let disabled = try await homerules(["rules", "disable", "hot-room-led"] + broker)
        #expect(disabled.status == 0 && disabled.stdout.hasPrefix("rule hot-room-led is disabled (confirmed by the daemon in "), "\(disabled)")
        // The reload that put it in force counts it.
        let reload = try await home.homerules(["events", "--kind", "reload"]) { $0.stdout.contains("rules disable hot-room-led") }
        #expect(reload.stdout.contains("rules disable hot-room-led: 3 devices, 5 sensors, 2 actuators, 3 rules (1 disabled)"), "\(reload)")
        let afterDisable = try await home.homerules(["rules", "list"]) { $0.stdout.contains("hot-room-led       no (rules disable)") }
        #expect(afterDisable.stdout.contains("hot-room-led       no (rules disable)  –\n"), "\(afterDisable)")

        // A disabled rule makes no decision: the message event is logged after the rules saw it, so it is the barrier.
        let node = try await TestDevice.connect(id: "livingroom-node", port: Self.port(broker))
        try await node.publish("home/livingroom-node/status", "online", retain: true)
        try await node.publish("home/livingroom-node/temperature", "25")
        try await node.publish("home/livingroom-node/temperature", "31")
        let logged = try await home.homerules(["events", "--json"]) { $0.stdout.contains(#""payload":"31""#) }
        let events = try logged.stdout.split(separator: "\n").map { try Event.fromJSON(Data($0.utf8)) }
        #expect(events.contains { $0.payload == "31" })
        #expect(!events.contains { $0.rule == "hot-room-led" })
        await node.disconnect()

        let why = try await home.homerules(["why", "hot-room-led"]) { $0.stdout.hasPrefix("Rule hot-room-led is disabled") }
        #expect(why.stdout.hasPrefix("Rule hot-room-led is disabled with `homerules rules disable`"), "\(why)")
        let devices = try await home.homerules(["devices"]) { $0.stdout.contains("Disabled with") }
        #expect(devices.stdout.contains("Disabled with `homerules rules disable`: hot-room-led"), "\(devices)")

        // Run by hand: its actions now, whatever its conditions (the plug is not on), logged as such.
        let ran = try await homerules(["rules", "run", "desk-off-at-night"] + broker)
        #expect(ran.status == 0 && ran.stdout.hasPrefix("rule desk-off-at-night ran (confirmed by the daemon in "), "\(ran)")
        let fired = try await home.homerules(["events", "--kind", "rule_fired", "--kind", "action", "--rule", "desk-off-at-night"]) {
            $0.stdout.contains("cmnd/desk-plug/POWER = OFF")
        }
        #expect(fired.stdout.contains("rule_fired  desk-off-at-night  run by hand (homerules rules run)"), "\(fired)")
        #expect(fired.stdout.contains("cmnd/desk-plug/POWER = OFF"))

        // The override outlives a restart, until enabled again.
        serve.stop()
        (serve, broker) = try await home.serve()
        #expect(try await homerules(["rules", "list"]).stdout.contains("hot-room-led       no (rules disable)"))
        let enabled = try await homerules(["rules", "enable", "hot-room-led"] + broker)
        #expect(enabled.status == 0 && enabled.stdout.hasPrefix("rule hot-room-led is enabled"), "\(enabled)")
        let afterEnable = try await home.homerules(["rules", "list"]) { $0.stdout.contains("hot-room-led       yes ") }
        #expect(afterEnable.stdout.contains("hot-room-led       yes "), "\(afterEnable)")

        let unknown = try await homerules(["rules", "disable", "hot-room-lde"] + broker)
        #expect(unknown.status == 2 && unknown.stderr == "error: unknown rule 'hot-room-lde'; did you mean 'hot-room-led'?\n")
    }

    @Test func withoutADaemonTheRequestIsNotConfirmed() async throws {
        // A broker, but no daemon on it: nobody answers.
        let harness = try await CLIMQTTHarness(devices: "")
        try ExampleHomeFiles.copy(to: harness.directory.url.appendingPathComponent("home"))
        let result = try await HomeRulesBinary.run(
            ["rules", "disable", "hot-room-led", "--devices", "home/devices", "--rules", "home/rules",
             "--broker", harness.url, "--timeout", "1s"], in: harness.directory.path)
        #expect(result.status == 4)
        #expect(result.stderr.hasPrefix("error: the daemon did not confirm 'rules disable hot-room-led' within 1s\n"), "\(result)")
        await harness.stop()
    }

    private static func port(_ broker: [String]) throws -> Int {
        try #require(broker.last.flatMap { Int($0.split(separator: ":").last ?? "") })
    }
}
