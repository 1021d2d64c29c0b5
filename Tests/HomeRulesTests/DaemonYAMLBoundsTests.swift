import EventLog
import Foundation
import HomeRules
import TestSupport
import Testing

/// Nothing a user can put in a watched folder takes the broker down: a file
/// beyond the YAML bounds is refused at `file:line:column`, by `rules check`
/// and by a running `serve`, whose rules stay in force.
@Suite("Hostile YAML files in a home", .timeLimit(.minutes(5)))
struct DaemonYAMLBoundsTests {
    @Test(arguments: [
        ("chain.yaml", HostileYAML.aliasChain(length: 10_000), "chain.yaml:35:15: YAML nested deeper than 64 levels"),
        ("lol.yaml", HostileYAML.billionLaughs, "lol.yaml:6:"),
    ])
    func aFileDroppedIntoARunningHomeIsRefusedAndTheRulesStayInForce(
        file: String, text: String, expected: String
    ) async throws {
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules) { harness in
            let device = try await TestDevice.connect(id: "node", port: harness.port)
            try harness.writeRule(file, text)
            let events = try await harness.waitForEvents {
                $0.contains { $0.kind == .reload && $0.detail?.contains("refused") == true } && $0.contains { $0.kind == .error }
            }
            let error = try #require(events.last { $0.kind == .error })
            #expect(error.detail?.contains(expected) == true)

            // The broker serves and the rules loaded before still run.
            try await device.publish("home/node/temperature", "25")
            try await device.publish("home/node/temperature", "29.5")
            #expect(try await device.waitForMessage(on: "home/node/led/set").payloadString == "on")
            await device.disconnect()
        }
    }

    @Test func rulesCheckRefusesABillionLaughsInADevicesFile() async throws {
        let directory = try TemporaryDirectory()
        for folder in ["devices", "rules"] {
            try FileManager.default.createDirectory(at: directory.file(folder), withIntermediateDirectories: true)
        }
        try HostileYAML.billionLaughs.write(to: directory.file("devices/lol.yaml"), atomically: true, encoding: .utf8)
        let result = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("devices/lol.yaml:6:"))
        #expect(result.stderr.contains("more than 100,000 YAML nodes"))
    }

    @Test func theSettingsFileIsBoundedToo() throws {
        guard case .failure(let errors) = ServeSettings.parse(HostileYAML.billionLaughs, path: "homerules.yaml") else {
            Issue.record("a billion laughs was read as settings")
            return
        }
        #expect(errors.description.hasPrefix("homerules.yaml:6:"))
        #expect(errors.description.contains("more than 100,000 YAML nodes"))
    }
}
