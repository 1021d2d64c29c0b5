import Foundation
import TestSupport
import Testing

/// README's tour, command by command, on a copy of the example home: what a
/// newcomer types and what the README says they will see.
@Suite("README's tour on the example home", .timeLimit(.minutes(5)))
struct TourTests {
    @Test func theTourShowsWhatTheReadmeSays() async throws {
        let home = try ExampleHomeRun()
        func homerules(_ arguments: [String]) async throws -> ProcessResult { try await home.homerules(arguments) }
        func start(_ arguments: [String]) throws -> BackgroundProcess { try home.start(arguments) }

        // homerules rules check
        let check = try await homerules(["rules", "check"])
        #expect(check.status == 0 && check.stdout == "3 devices, 5 sensors, 2 actuators, 3 rules\n", "\(check)")

        // homerules serve & (on a port of its own here, not 1883)
        let (serve, broker) = try await home.serve()
        defer { serve.stop() }

        // homerules simulate --ramp livingroom-node.temperature=26..30 --ramp-duration 20s &
        let simulate = try start(["simulate", "--ramp", "livingroom-node.temperature=26..30", "--ramp-duration", "20s"] + broker)
        defer { simulate.stop() }
        // homerules watch
        let watch = try start(["watch"] + broker)
        defer { watch.stop() }

        // The room crosses 28 °C after 11 readings, and the rule holds it 30 s before it fires.
        let fired = "rule hot-room-led fired: temperature 28.2 is above 28, held 30 s"
        #expect(await watch.waitForOutput(timeout: 120) { $0.contains("livingroom-node.led = on") }, "\(watch.output)")
        #expect(watch.output.contains(fired))
        #expect(simulate.output.contains("livingroom-node.led is on (command 'on')"), "\(simulate.output)")
        #expect(await CLIMQTTHarness.send(SIGINT, to: watch) == 0)

        // homerules events --since 10m --kind rule_fired
        let firing = "rule_fired  hot-room-led  temperature 28.2 is above 28, held 30 s"
        let events = try await home.homerules(["events", "--since", "10m", "--kind", "rule_fired"]) { $0.stdout.contains(firing) }
        #expect(events.stdout.contains(firing), "\(events)")

        // homerules why livingroom-node.led
        let why = try await home.homerules(["why", "livingroom-node.led"]) { $0.stdout.contains("by rule hot-room-led") }
        #expect(why.stdout.contains("livingroom-node.led is on"), "\(why)")
        #expect(why.stdout.contains("by rule hot-room-led,\n  which fired because temperature 28.2 is above 28, held 30 s,"))
        #expect(why.stdout.contains("on message home/livingroom-node/temperature = 28.2 at"))

        // homerules set livingroom-node.led off
        let set = try await homerules(["set", "livingroom-node.led", "off"] + broker)
        #expect(set.status == 0 && set.stdout.hasPrefix("livingroom-node.led is off (confirmed in "), "\(set)")

        // homerules devices
        let devices = try await home.homerules(["devices"]) { $0.stdout.contains("led off") }
        let livingroom = devices.stdout.split(separator: "\n").first { $0.hasPrefix("livingroom-node ") } ?? ""
        #expect(livingroom.contains("online for") && livingroom.contains("temperature 30 °C") && livingroom.hasSuffix("led off"),
                "\(devices)")

        // kill -9 %2: the wills say offline, and the alert rule fires for each device.
        simulate.kill9()
        let alerts = try await home.homerules(["events", "--since", "10m", "--kind", "rule_fired"]) {
            $0.stdout.components(separatedBy: "device-offline").count - 1 == 3
        }
        #expect(alerts.stdout.components(separatedBy: "device-offline").count - 1 == 3, "\(alerts)")
        let after = try await home.homerules(["devices"]) { $0.stdout.components(separatedBy: "offline since").count == 4 }
        #expect(after.stdout.components(separatedBy: "offline since").count == 4, "\(after)")
    }
}
