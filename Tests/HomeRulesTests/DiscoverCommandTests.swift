import Foundation
@testable import HomeRules
import Rules
import TestSupport
import Testing

@Suite("homerules discover", .timeLimit(.minutes(5)))
struct DiscoverCommandTests {
    static let relayTopic = "homeassistant/switch/1C9A3B_RL_1/config"

    /// What `discover` proposes for the Tasmota relay alone.
    static var expectedFile: String {
        var collector = DiscoveryCollector()
        collector.add(topic: relayTopic, payload: Array((DiscoveryFixtures.tasmota[relayTopic] ?? "").utf8))
        return collector.report().proposals.map(DeviceYAMLWriter.yaml).first ?? ""
    }

    @Test func writesKeepsAnEditedFileAndReplacesItWithForce() async throws {
        let harness = try await CLIMQTTHarness(devices: "")
        defer { Task { await harness.stop() } }
        let device = try await harness.client("tasmota")
        try await device.publish(topic: Self.relayTopic, payload: DiscoveryFixtures.tasmota[Self.relayTopic] ?? "", qos: .atLeastOnce, retain: true)
        try await device.publish(topic: "homeassistant/climate/hallway/thermostat/config", payload: DiscoveryFixtures.climate.values.first ?? "",
                                 qos: .atLeastOnce, retain: true)
        await device.disconnect()
        let file = harness.directory.file("devices/tasmota.yaml")
        let arguments = ["discover", "--broker", harness.url, "--for", "300ms"]

        // Without a terminal and without --yes, nothing is written.
        let asked = try await harness.run(arguments)
        #expect(asked.status == 0, "\(asked.stderr)")
        #expect(asked.stdout.contains("==> devices/tasmota.yaml (new) <==\n\(Self.expectedFile)"), "\(asked.stdout)")
        #expect(asked.stdout.contains("not converted: homeassistant/climate/hallway/thermostat/config (climate)"), "\(asked.stdout)")
        #expect(asked.stdout.contains("standard input is not a terminal: nothing written; run again with --yes to write 1 file"))
        #expect(!FileManager.default.fileExists(atPath: file.path))

        let written = try await harness.run(arguments + ["--yes"])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.hasSuffix("wrote devices/tasmota.yaml\n"), "\(written.stdout)")
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.expectedFile)
        #expect(try await harness.run(["rules", "check"]).status == 0)

        let again = try await harness.run(arguments + ["--yes"])
        #expect(again.stdout.contains("==> devices/tasmota.yaml (unchanged) <=="), "\(again.stdout)")
        #expect(again.stdout.hasSuffix("nothing to write\n"), "\(again.stdout)")

        let edited = Self.expectedFile.replacingOccurrences(of: "name: Tasmota", with: "name: Kitchen relay")
        try edited.write(to: file, atomically: true, encoding: .utf8)
        let kept = try await harness.run(arguments + ["--yes"])
        #expect(kept.stdout.contains("==> devices/tasmota.yaml (exists, differs, kept (use --force)) <=="), "\(kept.stdout)")
        #expect(try String(contentsOf: file, encoding: .utf8) == edited)

        let forced = try await harness.run(arguments + ["--yes", "--force"])
        #expect(forced.stdout.contains("wrote devices/tasmota.yaml"), "\(forced.stdout)")
        #expect(try String(contentsOf: file, encoding: .utf8) == Self.expectedFile)
        await harness.stop()
    }

    @Test func dryRunWritesNothingAndAnUnreachableBrokerExitsWithThree() async throws {
        let harness = try await CLIMQTTHarness(devices: "")
        let device = try await harness.client("shelly")
        let (topic, payload) = try #require(DiscoveryFixtures.shelly.first)
        try await device.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: true)
        await device.disconnect()
        let dry = try await harness.run(["discover", "--broker", harness.url, "--for", "200ms", "--dry-run"])
        #expect(dry.stdout.hasSuffix("dry run: nothing written; run again with --yes to write 1 file\n"), "\(dry.stdout)")
        #expect(!FileManager.default.fileExists(atPath: harness.directory.file("devices/shelly1.yaml").path))
        await harness.stop()
        let unreachable = try await harness.run(["discover", "--broker", harness.url, "--for", "200ms"])
        #expect(unreachable.status == 3, "\(unreachable.stderr)")
    }
}
