import Foundation
@testable import HomeRules
import Rules
import Testing

@Suite("discover: from announcements to device files", .timeLimit(.minutes(5)))
struct DiscoveryMappingTests {
    /// The report for some Home Assistant configs and, optionally, a Zigbee2MQTT device list.
    static func report(_ configs: [String: String], zigbee2mqtt: String? = nil) -> DiscoveryReport {
        var collector = DiscoveryCollector()
        for (topic, payload) in configs { collector.add(topic: topic, payload: Array(payload.utf8)) }
        if let zigbee2mqtt { collector.add(topic: "zigbee2mqtt/bridge/devices", payload: Array(zigbee2mqtt.utf8)) }
        return collector.report()
    }

    static func yaml(_ report: DiscoveryReport, _ id: String) -> String? {
        report.proposals.first { $0.id == id }.map(DeviceYAMLWriter.yaml)
    }

    @Test func tasmotaSensorAndRelay() {
        let report = Self.report(DiscoveryFixtures.tasmota)
        #expect(report.proposals.map(\.id) == ["tasmota"])
        #expect(Self.yaml(report, "tasmota") == """
            # Proposed by `homerules discover` from:
            #   homeassistant/sensor/1C9A3B_AM2301_Temperature/config
            #   homeassistant/switch/1C9A3B_RL_1/config
            id: tasmota
            name: Tasmota
            presence:
              topic: tele/tasmota_1C9A3B/LWT
              online: Online
              offline: Offline
            sensors:
              am2301-temperature:
                topic: tele/tasmota_1C9A3B/SENSOR
                type: number
                path: AM2301.Temperature
                unit: "°C"
            actuators:
              switch:
                command_topic: cmnd/tasmota_1C9A3B/POWER
                state_topic: tele/tasmota_1C9A3B/STATE
                state_path: POWER
                payloads: { on: "ON", off: "OFF" }

            """)
    }

    @Test func esphomeSensorSwitchAndJSONLightWithBrightness() {
        let report = Self.report(DiscoveryFixtures.esphome)
        #expect(Self.yaml(report, "livingroom") == """
            # Proposed by `homerules discover` from:
            #   homeassistant/light/livingroom/livingroom_lamp/config
            #   homeassistant/sensor/livingroom/livingroom_temperature/config
            #   homeassistant/switch/livingroom/livingroom_relay/config
            id: livingroom
            name: livingroom
            presence:
              topic: livingroom/status
              online: online
              offline: offline
            sensors:
              temperature:
                topic: livingroom/sensor/livingroom_temperature/state
                type: number
                unit: "°C"
            actuators:
              lamp:
                command_topic: livingroom/light/lamp/command
                state_topic: livingroom/light/lamp/state
                state_path: state
                payloads: { on: '{"state":"ON"}', off: '{"state":"OFF"}' }
              lamp-brightness:
                type: number
                min: 0
                max: 255
                command_topic: livingroom/light/lamp/command
                command_template: '{"state":"ON","brightness":{{ value }}}'
                state_topic: livingroom/light/lamp/state
                state_path: brightness
              relay:
                command_topic: livingroom/switch/relay/command
                state_topic: livingroom/switch/relay/state
                payloads: { on: "ON", off: "OFF" }

            """)
    }

    @Test func shellyRelayWithTheBaseTopic() {
        let report = Self.report(DiscoveryFixtures.shelly)
        #expect(Self.yaml(report, "shelly1") == """
            # Proposed by `homerules discover` from:
            #   homeassistant/switch/shelly1-98CDAC1F0A2B/relay-0/config
            id: shelly1
            name: Shelly1
            presence:
              topic: shellies/shelly1-98CDAC1F0A2B/online
              online: "true"
              offline: "false"
            actuators:
              relay-0:
                command_topic: shellies/shelly1-98CDAC1F0A2B/relay/0/command
                state_topic: shellies/shelly1-98CDAC1F0A2B/relay/0
                payloads: { on: "on", off: "off" }

            """)
    }

    @Test func openMQTTGatewayTemplatesWithFiltersAreLeftOutWithAComment() {
        let report = Self.report(DiscoveryFixtures.openMQTTGateway)
        #expect(Self.yaml(report, "lywsd03mmc-aabbcc") == """
            # Proposed by `homerules discover` from:
            #   homeassistant/binary_sensor/A4C138AABBCC-open/config
            #   homeassistant/sensor/A4C138AABBCC-tempc/config
            id: lywsd03mmc-aabbcc
            name: LYWSD03MMC-AABBCC
            presence:
              topic: home/OMG_ESP32_BLE/LWT
              online: online
              offline: offline
            sensors:
              open:
                topic: home/OMG_ESP32_BLE/BTtoMQTT/A4C138AABBCC
                type: boolean
                path: open
                payloads: { on: "true", off: "false" }
              tempc:
                # value_template not converted: {{ value_json.tempc | is_defined }}
                topic: home/OMG_ESP32_BLE/BTtoMQTT/A4C138AABBCC
                type: number
                unit: "°C"

            """)
    }

    @Test func zigbee2mqttSensorPlugAndDimmableBulb() {
        let report = Self.report([:], zigbee2mqtt: DiscoveryFixtures.zigbee2mqttDevices)
        #expect(report.proposals.map(\.id) == ["bedroom-sensor", "desk-plug", "hall-bulb"])
        #expect(report.notConverted.map(\.description) == [
            "zigbee2mqtt/bridge/devices (device '0x00158d0009998877' has no definition: unsupported, or not interviewed yet)",
        ])
        #expect(Self.yaml(report, "bedroom-sensor") == """
            # Proposed by `homerules discover` from:
            #   zigbee2mqtt/bridge/devices (0x00158d0001a2b3c4)
            id: bedroom-sensor
            name: bedroom sensor
            presence:
              convention: zigbee2mqtt
              node: bedroom sensor
            sensors:
              temperature:
                topic: zigbee2mqtt/bedroom sensor
                type: number
                path: temperature
                unit: "°C"
              humidity:
                topic: zigbee2mqtt/bedroom sensor
                type: number
                path: humidity
                unit: "%"
              battery:
                topic: zigbee2mqtt/bedroom sensor
                type: number
                path: battery
                unit: "%"
              linkquality:
                topic: zigbee2mqtt/bedroom sensor
                type: number
                path: linkquality
                unit: lqi

            """)
        #expect(Self.yaml(report, "hall-bulb") == """
            # Proposed by `homerules discover` from:
            #   zigbee2mqtt/bridge/devices (0x000b57fffe445566)
            # color (composite) not converted
            id: hall-bulb
            name: hall bulb
            presence:
              convention: zigbee2mqtt
              node: hall bulb
            sensors:
              linkquality:
                topic: zigbee2mqtt/hall bulb
                type: number
                path: linkquality
                unit: lqi
            actuators:
              state:
                command_topic: zigbee2mqtt/hall bulb/set
                state_topic: zigbee2mqtt/hall bulb
                state_path: state
                payloads: { on: '{"state":"ON"}', off: '{"state":"OFF"}' }
              brightness:
                type: number
                min: 0
                max: 254
                command_topic: zigbee2mqtt/hall bulb/set
                command_template: '{"brightness": {{ value }}}'
                state_topic: zigbee2mqtt/hall bulb
                state_path: brightness
              effect:
                type: choice
                options: [blink, breathe, okay, stop_effect]
                command_topic: zigbee2mqtt/hall bulb/set
                command_template: '{"effect": "{{ value }}"}'

            """)
        let plug = report.proposals.first { $0.id == "desk-plug" }
        #expect(plug?.actuators.map(\.name) == ["state", "power_on_behavior"])
    }

    @Test func unsupportedComponentsAreListedNotDropped() {
        let report = Self.report(DiscoveryFixtures.climate)
        #expect(report.proposals.isEmpty)
        #expect(report.notConverted.map(\.description) == ["homeassistant/climate/hallway/thermostat/config (climate)"])
    }

    @Test func everyProposalLoadsWithTheDeviceLoader() throws {
        let report = Self.report(DiscoveryFixtures.allConfigs, zigbee2mqtt: DiscoveryFixtures.zigbee2mqttDevices)
        #expect(report.proposals.count == 7)
        let files = report.proposals.map { SourceFile(path: "devices/\($0.fileName)", text: DeviceYAMLWriter.yaml(for: $0)) }
        let home = try HomeLoader.load(deviceFiles: files, ruleFiles: []).get()
        #expect(home.devices.count == report.proposals.count)
        let bulb = try #require(home.device(id: "hall-bulb"))
        #expect(bulb.actuator(named: "brightness")?.control == .number(NumberBounds(min: 0, max: 254)))
        #expect(bulb.actuator(named: "brightness")?.commandPayload(for: .number(40)) == #"{"brightness": 40}"#)
        #expect(bulb.actuator(named: "effect")?.commandPayload(for: .option("okay")) == #"{"effect": "okay"}"#)
        #expect(bulb.actuator(named: "state")?.commandPayload(for: .state(.on)) == #"{"state":"ON"}"#)
    }

    /// Found by the fuzzer (Fuzz/run discovery): a friendly name with a
    /// wildcard made a file that does not load.
    @Test func namesAndTopicsThatMakeNoTopicNameAreNotConverted() {
        let list = ##"[{"ieee_address":"0x1","type":"Router","friendly_name":"#all bulb","definition":{"exposes":[{"type":"binary","property":"state","access":7,"value_on":"ON","value_off":"OFF"}]}}]"##
        let sensor = #"{"name":"t","stat_t":"tele/a\u0000b/SENSOR","dev":{"ids":["x"],"name":"X"}}"#
        let report = Self.report(["homeassistant/sensor/x/t/config": sensor], zigbee2mqtt: list)
        #expect(report.proposals.isEmpty)
        #expect(report.notConverted.map(\.description) == [
            "zigbee2mqtt/bridge/devices (device '#all bulb' makes no topic name: a topic name must not contain the wildcards '+' or '#')",
            "homeassistant/sensor/x/t/config (sensor whose state_topic 'tele/a\u{0}b/SENSOR' is not a topic name: a topic must not contain NUL (U+0000))",
        ])
    }

    /// Found by the fuzzer: a template quoted in a comment carried a
    /// control character, which YAML forbids; a line break would have let
    /// the announcer write YAML of its own.
    @Test func commentsSpellOutLineBreaksAndControlCharacters() throws {
        let sensor = #"{"name":"t","stat_t":"tele/x/SENSOR","val_tpl":"{{ value_json.t | float }}\nid: evil\u0007","dev":{"ids":["x"],"name":"X"}}"#
        let report = Self.report(["homeassistant/sensor/x/t/config": sensor])
        let yaml = try #require(Self.yaml(report, "x"))
        #expect(yaml.contains(#"# value_template not converted: {{ value_json.t | float }}\u{a}id: evil\u{7}"#), "\(yaml)")
        let home = try HomeLoader.load(deviceFiles: [SourceFile(path: "devices/x.yaml", text: yaml)], ruleFiles: []).get()
        #expect(home.devices.map(\.id) == ["x"])
    }

    /// Found by the fuzzer: a property that is no plain JSON key made a
    /// state path that does not load.
    @Test func zigbee2mqttPropertiesThatAreNoPlainKeyAreNotConverted() throws {
        let list = #"[{"ieee_address":"0x1","type":"Router","friendly_name":"bulb","definition":{"exposes":[{"type":"enum","property":"power]on","access":7,"values":["off","on"]},{"type":"numeric","property":"a.b","access":1},{"type":"numeric","property":"brightness","access":1}]}}]"#
        let report = Self.report([:], zigbee2mqtt: list)
        let yaml = try #require(Self.yaml(report, "bulb"))
        #expect(yaml.contains("# power]on not converted: not a plain JSON key") && yaml.contains("# a.b not converted: not a plain JSON key"), "\(yaml)")
        let home = try HomeLoader.load(deviceFiles: [SourceFile(path: "devices/bulb.yaml", text: yaml)], ruleFiles: []).get()
        #expect(home.device(id: "bulb")?.sensors.map(\.name) == ["brightness"])
    }

    @Test func zigbee2mqttDevicesAnnouncedToHomeAssistantTooAreProposedOnce() {
        let config = #"{"name":"temperature","stat_t":"zigbee2mqtt/bedroom sensor","val_tpl":"{{ value_json.temperature }}","unit_of_meas":"°C","dev":{"ids":["zigbee2mqtt_0x00158d0001a2b3c4"],"name":"bedroom sensor"}}"#
        let report = Self.report(["homeassistant/sensor/0x00158d0001a2b3c4/temperature/config": config], zigbee2mqtt: DiscoveryFixtures.zigbee2mqttDevices)
        #expect(report.proposals.map(\.id) == ["bedroom-sensor", "desk-plug", "hall-bulb"])
        #expect(report.notConverted.contains { $0.reason == "proposed from the Zigbee2MQTT device list" })
    }
}
