import EventLog
import Foundation
import TestSupport
import Testing

@Suite("homerules why", .timeLimit(.minutes(5)))
struct WhyCommandTests {
    @Test func anActuatorsStateIsExplainedByItsChainOfCauses() async throws {
        let home = try await CLILogHome()
        let result = try await home.homerules(["why", "livingroom-node.led"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(result.stdout == """
            livingroom-node.led is on (reported at 2025-03-01 21:04:12).
            livingroom-node.led was set on at 2025-03-01 21:04:10 by rule hot-room-led,
              which fired because temperature 29.5 is above 28 for 30 s,
              on message home/livingroom-node/temperature = 29.5 at 2025-03-01 21:03:40.

            """)
    }

    @Test func aRulesLatestDecisionsComeWithReasonsCausesAndActions() async throws {
        let home = try await CLILogHome()
        let result = try await home.homerules(["why", "hot-room-led"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            Rule hot-room-led, its latest 3 decisions, newest last:
            2025-03-01 21:03:20  skipped    temperature 27.5 is not above 28
                                            on message home/livingroom-node/temperature = 27.5 at 2025-03-01 21:03:20
            2025-03-01 21:03:40  skipped    held 0 s of 30 s
                                            on message home/livingroom-node/temperature = 29.5 at 2025-03-01 21:03:40
            2025-03-01 21:04:10  fired      temperature 29.5 is above 28 for 30 s
                                            on message home/livingroom-node/temperature = 29.5 at 2025-03-01 21:03:40
                                            then set livingroom-node.led on

            """)
        let latest = try await home.homerules(["why", "hot-room-led", "--limit", "1"])
        #expect(latest.stdout.hasPrefix("Rule hot-room-led, its latest decision:\n2025-03-01 21:04:10  fired "))
        #expect(!latest.stdout.contains("skipped"))
    }

    @Test func aRulesLastRunIsShownWhenSkipsPushedItOut() async throws {
        let home = try await CLILogHome()
        try await CLILogHome.write(to: home.databasePath) { writer in
            // A sensor reporting every second: the rule skips after firing, many times.
            for second in 1...20 {
                await writer.record(Event(
                    time: CLILogHome.hotMessageTime.addingTimeInterval(60 + Double(second)), kind: .ruleSkipped,
                    rule: "hot-room-led", detail: "temperature 29.5 is still above 28; it fires on the crossing only"))
            }
        }
        let result = try await home.homerules(["why", "hot-room-led", "--limit", "2"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "Rule hot-room-led, its last run:")
        #expect(lines.dropFirst().first?.hasPrefix("2025-03-01 21:04:10  fired      temperature 29.5 is above 28 for 30 s") == true)
        #expect(lines.contains("Rule hot-room-led, its latest 2 decisions, newest last:"))
        #expect(lines.filter { $0.contains("  skipped  ") }.count == 2, "\(result.stdout)")

        let fired = try await home.homerules(["why", "hot-room-led", "--fired"])
        #expect(fired.stdout.hasPrefix("Rule hot-room-led, its latest run:\n2025-03-01 21:04:10  fired "), "\(fired.stdout)")
        #expect(!fired.stdout.contains("skipped"))
    }

    @Test func aRuleStartedByAPresenceChangeSaysSo() async throws {
        let home = try await CLILogHome()
        let result = try await home.homerules(["why", "device-offline"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("fired      desk-plug went offline\n"))
        #expect(result.stdout.contains("when desk-plug went offline at 2025-03-01 21:05:20 (announced 'Offline' on tele/desk-plug/LWT)\n"))
        #expect(result.stdout.contains("then publish home/alerts = Desk plug went offline\n"))
    }

    /// An evening later: the LED goes off through `otherwise` (its message
    /// purged by retention), the desk plug by a time trigger, and a rule
    /// whose id has a dot.
    private func eveningHome() async throws -> (home: CLILogHome, purgedMessage: Int64) {
        let home = try await CLILogHome(recentMessages: false)
        let t = CLILogHome.hotMessageTime.addingTimeInterval(86_400)
        var cool: Int64 = 0
        try await CLILogHome.write(to: home.databasePath) { writer in
            cool = await writer.record(Event(time: t, kind: .message, device: "livingroom-node", entity: "temperature", topic: "home/livingroom-node/temperature", payload: "26"))
            let otherwise = await writer.record(Event(time: t.addingTimeInterval(1), kind: .ruleOtherwise, rule: "hot-room-led", detail: "temperature 26 is below 27", cause: cool))
            await writer.record(Event(time: t.addingTimeInterval(1), kind: .action, device: "livingroom-node", entity: "led", topic: "home/livingroom-node/led/set", payload: "off", rule: "hot-room-led", detail: "set led off", cause: otherwise))
            let night = await writer.record(Event(time: t.addingTimeInterval(3600), kind: .ruleFired, rule: "desk-off-at-night", detail: "it is 23:00 on a work day"))
            // No detail: the payload says what it did, read with the device's definition.
            await writer.record(Event(time: t.addingTimeInterval(3600), kind: .action, device: "desk-plug", entity: "relay", topic: "cmnd/desk-plug/POWER", payload: "OFF", rule: "desk-off-at-night", cause: night))
            await writer.record(Event(time: t.addingTimeInterval(3700), kind: .ruleSkipped, rule: "night.lights", detail: "it is not dark yet"))
            await writer.update(.purge(before: t.addingTimeInterval(0.5)))
        }
        return (home, cool)
    }

    @Test func otherwiseRunsTimeTriggersAndPurgedCausesReadRight() async throws {
        let (home, purgedMessage) = try await eveningHome()
        let led = try await home.homerules(["why", "livingroom-node.led"])
        #expect(led.status == 0)
        #expect(led.stdout.hasSuffix("""
            livingroom-node.led was set off at 2025-03-02 21:03:41 by rule hot-room-led,
              which ran its otherwise actions because temperature 26 is below 27,
              after an earlier event that is no longer in the log.

            """))
        let plug = try await home.homerules(["why", "desk-plug.relay"])
        #expect(plug.stdout == """
            desk-plug.relay is off (reported at 2025-03-01 21:05:20).
            desk-plug.relay was set off at 2025-03-02 22:03:40 by rule desk-off-at-night,
              which fired because it is 23:00 on a work day.

            """)
        let rule = try await home.homerules(["why", "hot-room-led", "--limit", "1"])
        #expect(rule.stdout.contains("otherwise  temperature 26 is below 27\n"))
        #expect(rule.stdout.contains("after an earlier event (#\(purgedMessage)) that is no longer in the log\n"))
        #expect(rule.stdout.contains("then set livingroom-node.led off\n"))
    }

    @Test func aCauseLostInAKillReadsAsLostNotAsPurged() async throws {
        let home = try await CLILogHome(recentMessages: false)
        // A daemon killed while handling a message: its id was cited, its event never written.
        let killed = try EventWriter(database: try EventDatabase.openForWriting(path: home.databasePath))
        let message = killed.reserveID()
        try await CLILogHome.write(to: home.databasePath) { writer in
            let t = CLILogHome.hotMessageTime.addingTimeInterval(7200)
            let fired = await writer.record(Event(time: t, kind: .ruleFired, rule: "hot-room-led", detail: "temperature 31 is above 28", cause: message))
            await writer.record(Event(time: t, kind: .action, device: "livingroom-node", entity: "led", topic: "home/livingroom-node/led/set", payload: "on", rule: "hot-room-led", detail: "set led on", cause: fired))
        }
        let led = try await home.homerules(["why", "livingroom-node.led"])
        #expect(led.stdout.hasSuffix("""
              which fired because temperature 31 is above 28,
              after event #\(message), which was never written (the daemon did not stop cleanly): the cause is lost.

            """), "\(led.stdout)")
        let rule = try await home.homerules(["why", "hot-room-led", "--limit", "1"])
        #expect(rule.stdout.contains("after event #\(message), which was never written (the daemon did not stop cleanly): the cause is lost\n"))
    }

    @Test func aNameWithADotIsARuleWhenARuleHasThatID() async throws {
        let home = try await eveningHome().home
        let result = try await home.homerules(["why", "night.lights"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("Rule night.lights, its latest decision:\n"))
        #expect(result.stdout.contains("skipped    it is not dark yet"))
    }

    @Test func aDefinedActuatorWithNothingInTheLogIsNotAnError() async throws {
        let home = try await CLILogHome()
        try FileManager.default.removeItem(atPath: home.databasePath)
        try await CLILogHome.write(to: home.databasePath) { _ in }
        let result = try await home.homerules(["why", "livingroom-node.led"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            livingroom-node.led has not reported a state yet.
            No action on livingroom-node.led is in the log: no rule has switched it (or retention removed those events).

            """)
    }

    @Test func unknownNamesAreClearErrorsWithExitStatus1() async throws {
        let home = try await CLILogHome()
        let typo = try await home.homerules(["why", "livingroom-node.lde"])
        #expect(typo.status == 1)
        #expect(typo.stdout == "")
        #expect(typo.stderr == "error: unknown actuator 'livingroom-node.lde': no event in homerules.sqlite names it and device livingroom-node has only livingroom-node.led\n")

        let device = try await home.homerules(["why", "attic.lamp"])
        #expect(device.status == 1)
        #expect(device.stderr == "error: unknown actuator 'attic.lamp': no event in homerules.sqlite names it and no file in devices defines a device 'attic'\n")

        let rule = try await home.homerules(["why", "cold-room"])
        #expect(rule.status == 1)
        #expect(rule.stderr == "error: unknown rule 'cold-room': no event in homerules.sqlite names it\n")

        let deviceAsRule = try await home.homerules(["why", "livingroom-node"])
        #expect(deviceAsRule.status == 1)
        #expect(deviceAsRule.stderr.contains("to ask about an actuator, name it as DEVICE.ACTUATOR, such as livingroom-node.led"))
    }

    @Test func withoutDefinitionsTheLogAloneDecides() async throws {
        let home = try await CLILogHome()
        try FileManager.default.createDirectory(at: home.directory.file("elsewhere"), withIntermediateDirectories: true)
        let known = try await home.homerules(["why", "livingroom-node.led", "--devices", "elsewhere"])
        #expect(known.status == 0)
        #expect(known.stdout.contains("was set on at 2025-03-01 21:04:10 by rule hot-room-led"))
        // Defined in devices/, but with no definitions and nothing in the log it is unknown.
        let result = try await home.homerules(["why", "bedroom-sensor.light", "--devices", "elsewhere"])
        #expect(result.status == 1)
    }

    @Test func aMissingDatabaseIsAClearErrorWithExitStatus1() async throws {
        let directory = try TemporaryDirectory()
        let result = try await CLILogHome.homerules(["why", "hot-room-led", "--database", "missing.sqlite"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr == "error: missing.sqlite: no such database (has `homerules serve` run here?)\n")
    }
}
