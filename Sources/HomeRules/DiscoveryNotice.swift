import MQTT
import MQTTTopics
import Rules

/// Tells, once per device, of a device that announces itself with Home
/// Assistant MQTT discovery but that no device file defines, so that the
/// user learns of `homerules discover` when it would help.
///
/// The daemon subscribes to ``filters`` besides the home's topics; a config
/// that only this notice asked for does not reach the engine or the event
/// log (a broker may hold hundreds, retained, that every start would
/// otherwise log).
struct DiscoveryNotice {
    /// Home Assistant's config topics under its default prefix.
    static let filters: Set<String> = ["homeassistant/+/+/config", "homeassistant/+/+/+/config"]
    private static let compiled = filters.map { TopicFilter(compiling: $0) }

    /// The devices already told of, by their grouping key.
    private var told: Set<String> = []

    /// Whether `message` is a discovery config that only the notice asked
    /// for: then it is handled here, and logged at notice level if it
    /// announces a device that `home` does not define.
    mutating func consumes(_ message: MQTTMessage, home: Home?, log: (String) -> Void) -> Bool {
        // On every message the daemon hears: one prefix test before any filter is matched.
        guard message.topic.hasPrefix("homeassistant/"), Self.compiled.contains(where: { $0.matches(message.topic) }),
              let home, !home.topics.contains(where: { TopicFilter(compiling: $0).matches(message.topic) })
        else { return false }
        // Only what `discover` converts: naming it for a thermostat would send the user on a fruitless errand.
        guard let parts = HomeAssistantConfig.parts(ofTopic: message.topic, prefix: "homeassistant"),
              HomeAssistantMapping.supportedComponents.contains(parts.component),
              case .success(let document) = JSONValue.parse(
                  Array(message.payload.readableBytesView), maximumBytes: DiscoveryCollector.maximumPayloadBytes),
              let config = HomeAssistantConfig(
                  topic: message.topic, component: parts.component, nodeID: parts.nodeID, objectID: parts.objectID, document: document)
        else { return true }
        let topics = config.stateAndCommandTopics
        guard !topics.isEmpty, !told.contains(config.deviceKey) else { return true }
        let used = Set(home.devices.flatMap { $0.topics + $0.actuators.map(\.commandTopic) })
        guard topics.allSatisfy({ !used.contains($0) }) else { return true }
        told.insert(config.deviceKey)
        let name = config.deviceName ?? config.entityName ?? config.nodeID ?? config.objectID
        log("device '\(name)' announces itself (\(message.topic)) but no devices/ file defines it: run homerules discover")
        return true
    }
}
