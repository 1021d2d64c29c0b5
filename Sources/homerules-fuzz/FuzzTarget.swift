import Foundation
import HomeRules
import MQTTBroker
import Rules

/// One input reader of HomeRules under the fuzzer (the packet decoder has a
/// program of its own, `homerules-fuzz-packet`): each takes any bytes and
/// must come back, whatever they are (an error is fine; a crash, a hang or
/// an endless allocation is a finding).
enum FuzzTarget: String, CaseIterable {
    /// A device file, loaded with the example rules.
    case devices
    /// A rule file, loaded with the example devices.
    case rules
    /// The `serve` settings file.
    case settings
    /// A Mosquitto password file.
    case passwd
    /// A Mosquitto ACL file, then a few checks against it.
    case acl
    /// A discovery announcement (a Home Assistant config or Zigbee2MQTT's
    /// device list, by the first byte), proposed as device files that must
    /// load: a proposal that does not is a finding too.
    case discovery

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .devices: _ = HomeLoader.load(deviceFiles: [Self.file("devices/fuzz.yaml", bytes)], ruleFiles: ExampleHome.rules)
        case .rules: _ = HomeLoader.load(deviceFiles: ExampleHome.devices, ruleFiles: [Self.file("rules/fuzz.yaml", bytes)])
        case .settings: _ = ServeSettings.parse(Self.text(bytes), path: "homerules.yaml")
        case .passwd: _ = try? PasswordFile(parsing: Self.text(bytes), path: "passwd")
        case .acl: Self.checkAccess(Self.text(bytes))
        case .discovery: Self.propose(bytes)
        }
    }

    private static let announcementTopics = [
        "zigbee2mqtt/bridge/devices", "homeassistant/switch/node/relay/config", "homeassistant/sensor/node_temperature/config",
        "homeassistant/light/lamp/config", "homeassistant/number/thermostat/setpoint/config",
    ]

    private static func propose(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        var collector = DiscoveryCollector()
        collector.add(topic: announcementTopics[Int(first) % announcementTopics.count], payload: Array(bytes.dropFirst()))
        for proposal in collector.report().proposals {
            let yaml = DeviceYAMLWriter.yaml(for: proposal)
            if case .failure(let errors) = HomeLoader.load(deviceFiles: [SourceFile(path: "devices/\(proposal.fileName)", text: yaml)], ruleFiles: []) {
                fatalError("a proposal does not load:\n\(yaml)\n\(errors)")
            }
        }
    }

    private static func text(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    private static func file(_ path: String, _ bytes: UnsafeRawBufferPointer) -> SourceFile {
        SourceFile(path: path, text: text(bytes))
    }

    private static func checkAccess(_ text: String) {
        guard let acl = try? AccessControlList(parsing: text, path: "acl") else { return }
        for client in [ClientIdentity(clientID: "node", username: "jake"), ClientIdentity(clientID: "anon", username: nil)] {
            let permissions = acl.permissions(for: client)
            _ = permissions.mayPublish(topic: "home/node/temperature")
            _ = permissions.mayReceive(topic: "$SYS/broker/uptime")
            _ = permissions.maySubscribe(filter: "home/+/#")
        }
    }
}

/// The repository's example home, built in so that the fuzzer needs no files.
enum ExampleHome {
    static let devices = [SourceFile(path: "devices/node.yaml", text: """
        id: node
        name: Node
        presence: { topic: home/node/status, online: online, offline: offline }
        sensors:
          temperature: { topic: home/node/temperature, type: number, unit: "°C" }
          door: { topic: home/node/door, type: boolean, payloads: { on: OPEN, off: CLOSED } }
        actuators:
          led: { command_topic: home/node/led/set, state_topic: home/node/led }
        """)]

    static let rules = [SourceFile(path: "rules/node.yaml", text: """
        - id: hot
          when: { sensor: node.temperature, above: 28, for: 30s }
          if: [{ not: [{ sensor: node.door, equals: true }] }]
          then:
            - { set: node.led, to: on }
            - publish: { topic: "home/alerts", payload: "{{ value }}" }
          otherwise:
            - { set: node.led, to: off }
        """)]
}
