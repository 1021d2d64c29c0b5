import Rules

/// What one Home Assistant config adds to the device it belongs to.
struct DiscoveredMembers: Sendable, Hashable {
    var sensors: [ProposedSensor] = []
    var actuators: [ProposedActuator] = []
    /// About the device as a whole: what of it is not converted.
    var notes: [String] = []
}

/// Turns a Home Assistant config into sensors and actuators of a device
/// file: the components with a counterpart there, and only their parts
/// that have one.
enum HomeAssistantMapping {
    /// The components that become sensors or actuators.
    static let supportedComponents: Set = ["sensor", "binary_sensor", "switch", "light", "fan", "number", "select"]

    /// Sensor device classes whose values are not numbers.
    private static let textDeviceClasses: Set = ["date", "enum", "timestamp"]

    /// The members of `config`, named `name` (a light's brightness gets a
    /// name of its own), or why the config has none.
    static func members(of config: HomeAssistantConfig, named name: String) -> Result<DiscoveredMembers, NotConverted> {
        func notConverted(_ reason: String) -> Result<DiscoveredMembers, NotConverted> {
            .failure(NotConverted(topic: config.discoveryTopic, reason: reason))
        }
        guard supportedComponents.contains(config.component) else { return notConverted(config.component) }
        // Home Assistant subscribes to a state topic, so it may be a filter; a device file names one topic.
        for (key, topic) in config.options.sorted(by: { $0.key < $1.key }) where key.hasSuffix("_topic") {
            if let topic = topic.string, let problem = DiscoveryNames.topicProblem(topic) {
                return notConverted("\(config.component) whose \(key) '\(topic.prefix(80))' is not a topic name: \(problem)")
            }
        }
        if config.component == "sensor" || config.component == "binary_sensor" {
            guard let sensor = sensor(of: config, named: name) else { return notConverted("\(config.component) without a state_topic") }
            return .success(DiscoveredMembers(sensors: [sensor]))
        }
        guard let commandTopic = config.text("command_topic") else { return notConverted("\(config.component) without a command_topic") }
        switch config.component {
        case "number":
            let bounds = NumberBounds(min: config.number("min") ?? 1, max: config.number("max") ?? 100, step: config.number("step"))
            guard bounds.min < bounds.max else { return notConverted("number whose min is not below its max") }
            var actuator = valued(config, name: name, control: .number(bounds), commandTopic: commandTopic)
            actuator.unit = config.text("unit_of_measurement")
            return .success(DiscoveredMembers(actuators: [actuator]))
        case "select":
            let options = config.options["options"]?.elements?.compactMap(\.text) ?? []
            guard !options.isEmpty, Set(options.map { $0.lowercased() }).count == options.count else {
                return notConverted("select without options, or with an option twice")
            }
            return .success(DiscoveredMembers(actuators: [valued(config, name: name, control: .choice(options), commandTopic: commandTopic)]))
        case "light" where config.text("schema") == "json":
            return .success(DiscoveredMembers(actuators: jsonLight(config, name: name, commandTopic: commandTopic)))
        case "light" where config.text("schema") == "template":
            return notConverted("light with schema template")
        default:
            var actuators = [onOff(config, name: name, commandTopic: commandTopic)]
            if config.component == "light", let brightness = brightness(of: config, named: name) { actuators.append(brightness) }
            if config.component == "fan", config.text("percentage_command_topic") != nil {
                actuators[0].notes.append("the fan's speed (percentage_command_topic) is not converted")
            }
            return .success(DiscoveredMembers(actuators: actuators))
        }
    }

    private static func sensor(of config: HomeAssistantConfig, named name: String) -> ProposedSensor? {
        guard let topic = config.text("state_topic") else { return nil }
        let unit = config.text("unit_of_measurement")
        var sensor = ProposedSensor(name: name, topic: topic, type: .string, unit: unit)
        if config.component == "binary_sensor" {
            sensor.type = .boolean
            let payloads = BinaryPayloads(on: config.text("payload_on") ?? "ON", off: config.text("payload_off") ?? "OFF")
            if payloads != BinaryPayloads(on: "ON", off: "OFF") {
                if payloads.on == payloads.off {
                    sensor.notes.append("payload_on and payload_off are both '\(payloads.on)'; not converted")
                } else {
                    sensor.payloads = payloads
                }
            }
        } else if unit != nil || config.options["state_class"] != nil
                    || config.text("device_class").map({ !textDeviceClasses.contains($0) }) == true {
            sensor.type = .number
        }
        read(config.text("value_template"), key: "value_template") { sensor.path = $0 } note: { sensor.notes.append($0) }
        return sensor
    }

    /// `switch`, `fan` and a light's on and off.
    private static func onOff(_ config: HomeAssistantConfig, name: String, commandTopic: String) -> ProposedActuator {
        var actuator = ProposedActuator(name: name, control: .onOff, commandTopic: commandTopic)
        actuator.payloads = BinaryPayloads(on: config.text("payload_on") ?? "ON", off: config.text("payload_off") ?? "OFF")
        actuator.stateTopic = config.text("state_topic")
        if actuator.stateTopic != nil {
            let key = config.options["state_value_template"] != nil ? "state_value_template" : "value_template"
            read(config.text(key), key: key) { actuator.statePath = $0 } note: { actuator.notes.append($0) }
        }
        for (key, payload) in [("state_on", actuator.payloads.on), ("state_off", actuator.payloads.off)] {
            if let state = config.text(key), state != payload {
                actuator.notes.append("\(key) '\(state)' differs from the command payload '\(payload)'; not converted")
            }
        }
        return actuator
    }

    /// A light with `schema: json`: JSON commands, its state at `state`, and
    /// its brightness in the same messages.
    private static func jsonLight(_ config: HomeAssistantConfig, name: String, commandTopic: String) -> [ProposedActuator] {
        var light = ProposedActuator(name: name, control: .onOff, commandTopic: commandTopic)
        light.payloads = BinaryPayloads(on: #"{"state":"ON"}"#, off: #"{"state":"OFF"}"#)
        light.stateTopic = config.text("state_topic")
        light.statePath = light.stateTopic.map { _ in "state" }
        guard config.options["brightness"]?.bool == true else { return [light] }
        let scale = config.number("brightness_scale") ?? 255
        var brightness = ProposedActuator(
            name: brightnessName(for: name, of: config), control: .number(NumberBounds(min: 0, max: scale)), commandTopic: commandTopic)
        brightness.commandTemplate = #"{"state":"ON","brightness":{{ value }}}"#
        brightness.stateTopic = light.stateTopic
        brightness.statePath = light.stateTopic.map { _ in "brightness" }
        return [light, brightness]
    }

    /// A default-schema light's brightness, when it has a topic for it.
    private static func brightness(of config: HomeAssistantConfig, named name: String) -> ProposedActuator? {
        guard let topic = config.text("brightness_command_topic") else { return nil }
        let bounds = NumberBounds(min: 0, max: config.number("brightness_scale") ?? 255)
        var actuator = ProposedActuator(name: brightnessName(for: name, of: config), control: .number(bounds), commandTopic: topic)
        if let template = config.text("brightness_command_template") {
            actuator.commandTemplate = DiscoveryTemplates.commandTemplate(template)
            if actuator.commandTemplate == nil { actuator.notes.append("brightness_command_template not converted: \(template)") }
        }
        actuator.stateTopic = config.text("brightness_state_topic")
        if actuator.stateTopic != nil {
            let key = "brightness_value_template"
            read(config.text(key), key: key) { actuator.statePath = $0 } note: { actuator.notes.append($0) }
        }
        return actuator
    }

    private static func brightnessName(for name: String, of config: HomeAssistantConfig) -> String {
        name == config.component ? "brightness" : "\(name)-brightness"
    }

    /// A `number` or `select`: its command template and its state.
    private static func valued(
        _ config: HomeAssistantConfig, name: String, control: ActuatorControl, commandTopic: String
    ) -> ProposedActuator {
        var actuator = ProposedActuator(name: name, control: control, commandTopic: commandTopic)
        if let template = config.text("command_template") {
            actuator.commandTemplate = DiscoveryTemplates.commandTemplate(template)
            if actuator.commandTemplate == nil { actuator.notes.append("command_template not converted: \(template)") }
        }
        actuator.stateTopic = config.text("state_topic")
        if actuator.stateTopic != nil {
            read(config.text("value_template"), key: "value_template") { actuator.statePath = $0 } note: { actuator.notes.append($0) }
        }
        return actuator
    }

    /// Hands a template's JSON path to `path`, or a note to `note` when it
    /// is more than a lookup.
    private static func read(_ template: String?, key: String, path: (String) -> Void, note: (String) -> Void) {
        guard let template else { return }
        switch DiscoveryTemplates.lookup(template) {
        case .wholePayload: break
        case .path(let found): path(found)
        case .notConverted(let text): note("\(key) not converted: \(text)")
        }
    }
}

/// An announcement that gives no device file, and why.
public struct NotConverted: Error, Sendable, Hashable, CustomStringConvertible {
    /// The discovery topic.
    public var topic: String
    /// The component, or what about it cannot be converted.
    public var reason: String

    /// `homeassistant/climate/x/config (climate)`.
    public var description: String { "\(topic) (\(reason))" }
}
