import Foundation
@testable import HomeRules
import Rules
import Testing

@Suite("discover: templates, names and bounds", .timeLimit(.minutes(5)))
struct DiscoveryBoundsTests {
    @Test(arguments: [
        ("{{ value_json.temperature }}", DiscoveryTemplates.Lookup.path("temperature")),
        ("{{value_json.DS18B20.Temperature}}", .path("DS18B20.Temperature")),
        ("{{ value_json['temp'] }}", .path("temp")),
        (#"{{ value_json["AM2301"].Humidity }}"#, .path("AM2301.Humidity")),
        ("{{ value_json.values[0] }}", .path("values[0]")),
        ("{{ value }}", .wholePayload),
        ("{{ value_json.temp | float }}", .notConverted("{{ value_json.temp | float }}")),
        ("{{ value_json.temp * 10 }}", .notConverted("{{ value_json.temp * 10 }}")),
        ("{{ value_json['a.b'] }}", .notConverted("{{ value_json['a.b'] }}")),
        ("{% if value_json.on %}ON{% endif %}", .notConverted("{% if value_json.on %}ON{% endif %}")),
    ])
    func valueTemplates(template: String, expected: DiscoveryTemplates.Lookup) {
        #expect(DiscoveryTemplates.lookup(template) == expected)
    }

    @Test func commandTemplatesAreCopiedOnlyWhenTheyPutTheValueIn() {
        #expect(DiscoveryTemplates.commandTemplate(#"{"brightness": {{value}}}"#) == #"{"brightness": {{ value }}}"#)
        #expect(DiscoveryTemplates.commandTemplate("{{ value | int }}") == nil)
        #expect(DiscoveryTemplates.commandTemplate("{{ value }} {{ value }}") == nil)
    }

    @Test func namesBecomeIdsTheLoaderAccepts() {
        #expect(DiscoveryNames.slug("Kitchen Plug") == "kitchen-plug")
        #expect(DiscoveryNames.slug("Température (salon)!") == "temperature-salon")
        #expect(DiscoveryNames.slug("  ") == "")
        var taken: Set<String> = []
        #expect(["plug", "plug", "plug"].map { DiscoveryNames.unique($0, in: &taken) } == ["plug", "plug-2", "plug-3"])
    }

    @Test func awkwardTextIsQuotedSoThatItReadsBackTheSame() throws {
        let proposal = {
            var proposal = DeviceProposal(id: "odd", name: "It's a \"device\": #1\n", presence: .topic("a/b", online: "yes", offline: "-", path: nil))
            proposal.sensors = [ProposedSensor(name: "s", topic: "x/{y}, z", type: .string, unit: "%")]
            return proposal
        }()
        let home = try HomeLoader.load(deviceFiles: [SourceFile(path: "odd.yaml", text: DeviceYAMLWriter.yaml(for: proposal))], ruleFiles: []).get()
        #expect(home.devices.first?.name == "It's a \"device\": #1\n")
        #expect(home.devices.first?.sensors.first?.topic == "x/{y}, z")
        #expect(home.devices.first?.presence?.payloads == ["yes": .online, "-": .offline])
    }

    @Test func tildeAtTheEndAndTheAvailabilityList() {
        let config = #"{"~":"garage/door","name":"Door","stat_t":"state/~","avty":[{"t":"~/status","pl_avail":"up","pl_not_avail":"down"},{"t":"bridge/state"}],"dev":{"ids":"door1","name":"Garage door"}}"#
        let report = DiscoveryMappingTests.report(["homeassistant/binary_sensor/door1/config": config])
        let proposal = report.proposals.first
        #expect(proposal?.presence == .topic("garage/door/status", online: "up", offline: "down", path: nil))
        #expect(proposal?.sensors.first?.topic == "state/garage/door")
        #expect(proposal?.notes == ["2 availability topics announced; only garage/door/status is used"])
    }

    @Test func payloadsBeyondTheBoundsAreReportedAndSkipped() {
        let large = "{\"name\":\"" + String(repeating: "x", count: DiscoveryCollector.maximumPayloadBytes) + "\"}"
        let deep = String(repeating: "[", count: YAMLBounds.maximumDepth + 1) + String(repeating: "]", count: YAMLBounds.maximumDepth + 1)
        let report = DiscoveryMappingTests.report([
            "homeassistant/sensor/large/config": large,
            "homeassistant/sensor/deep/config": deep,
            "homeassistant/sensor/garbled/config": "{not json",
            "homeassistant/sensor/list/config": "[1]",
            "homeassistant/status": "online",
        ])
        #expect(Set(report.skipped.map(\.description)) == [
            "homeassistant/sensor/large/config (\(large.utf8.count) bytes; discover reads at most 65536)",
            "homeassistant/sensor/deep/config (the JSON is nested deeper than 64 levels; discover reads at most 64)",
            "homeassistant/sensor/garbled/config (the payload is not JSON)",
            "homeassistant/sensor/list/config (not a JSON object)",
        ])
        #expect(report.proposals.isEmpty)
    }

    @Test func atMostTenThousandConfigsAreKept() {
        var collector = DiscoveryCollector()
        for number in 0...DiscoveryCollector.maximumConfigs {
            collector.add(topic: "homeassistant/sensor/s\(number)/config", payload: Array("{}".utf8))
        }
        // A config heard again replaces its first copy rather than counting twice.
        collector.add(topic: "homeassistant/sensor/s0/config", payload: Array("{}".utf8))
        #expect(collector.configCount == DiscoveryCollector.maximumConfigs)
        // An empty payload removes a config, as in Home Assistant.
        collector.add(topic: "homeassistant/sensor/s1/config", payload: [])
        #expect(collector.configCount == DiscoveryCollector.maximumConfigs - 1)
        #expect(collector.report().skipped.map(\.description) == ["homeassistant/# (more than 10000 configs; 1 more left out)"])
    }
}
