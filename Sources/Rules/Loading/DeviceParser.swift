import Yams

/// Reads the devices of one file: one device mapping, or a list of them.
struct DeviceParser {
    var reader: YAMLReader

    private static let deviceKeys = ["id", "name", "room", "presence", "convention", "sensors", "actuators"]
    private static let presenceKeys = ["topic", "online", "offline", "path", "convention", "node", "expire_after", "keepalive"]
    private static let sensorKeys = ["topic", "type", "path", "unit", "payloads"]
    private static let actuatorKeys = [
        "type", "command_topic", "command_template", "state_topic", "state_path", "payloads", "min", "max", "step", "options",
        "unit", "qos", "retain",
    ]
    /// The keys that belong to one type of actuator only.
    private static let actuatorTypeKeys = [
        "switch": ["payloads"], "number": ["min", "max", "step", "unit", "command_template"], "choice": ["options", "command_template"],
    ]
    /// Member names that templates use for the device itself.
    private static let reservedMembers: Set = ["id", "name", "room", "presence"]

    init(path: String) {
        reader = YAMLReader(path: path)
    }

    /// The devices of `text` by id, with the node of the id for duplicate checks.
    mutating func devices(in text: String) -> [Parsed<Device>] {
        reader.documents(of: text).flatMap { reader.items($0) }.compactMap { device($0) }
    }

    private mutating func device(_ node: Node) -> Parsed<Device>? {
        guard let fields = reader.mapping(node, as: "a device", allowed: Self.deviceKeys) else { return nil }
        let idNode = reader.required(fields, "id", in: "a device")
        let id = idNode.flatMap { reader.identifier($0, for: "id") }
        let name = fields["name"].flatMap { reader.text($0, for: "name") }
        let room = fields["room"].flatMap { reader.text($0, for: "room") }
        var presence: Presence?
        if let presenceNode = fields["presence"] {
            if let conventionKey = fields.keyNode("convention") {
                reader.error("give 'convention' inside 'presence', not beside it", at: conventionKey)
            }
            presence = self.presence(presenceNode, deviceID: id ?? "")
        } else if let conventionNode = fields["convention"] {
            presence = convention(conventionNode).map { Self.presence(convention: $0, node: id ?? "") }
        }
        var memberNames: [String: Node] = [:]
        let sensors = entries(fields["sensors"], key: "sensors", names: &memberNames).compactMap { sensor(name: $0, $1) }
        let actuators = entries(fields["actuators"], key: "actuators", names: &memberNames).compactMap { actuator(name: $0, $1) }
        guard let id, let idNode else { return nil }
        let device = Device(
            id: id, name: name, room: room, presence: presence, sensors: sensors + actuators.compactMap(\.echo), actuators: actuators,
            location: reader.location(node))
        let loaded = Set(sensors.map(\.name) + actuators.map(\.name))
        return Parsed(
            id: id, idNode: idNode, location: device.location, value: device,
            brokenMembers: Set(memberNames.keys).subtracting(loaded))
    }

    /// The named entries of `sensors` or `actuators`, checking that names are
    /// valid and unique within the device.
    private mutating func entries(_ node: Node?, key: String, names: inout [String: Node]) -> [(String, Node)] {
        guard let node, !YAMLReader.isNull(node) else { return [] }
        guard case .mapping(let mapping) = node else {
            reader.error("expected a mapping of names to \(key) for '\(key)', found \(YAMLReader.kind(of: node))", at: node)
            return []
        }
        var result: [(String, Node)] = []
        for (keyNode, value) in reader.pairs(of: mapping) {
            guard let name = reader.identifier(keyNode, for: "name") else { continue }
            if Self.reservedMembers.contains(name) {
                reader.error("'\(name)' cannot name a sensor or actuator: templates use it for the device itself", at: keyNode)
            } else if let first = names[name] {
                reader.error("'\(name)' already names a sensor or actuator of this device (at \(reader.location(first)))", at: keyNode)
            } else {
                names[name] = keyNode
                result.append((name, value))
            }
        }
        return result
    }

    // MARK: Presence

    private mutating func convention(_ node: Node) -> PresenceConvention? {
        guard let text = reader.text(node, for: "convention") else { return nil }
        guard let convention = PresenceConvention(rawValue: text.lowercased()) else {
            let names = PresenceConvention.allCases.map(\.rawValue)
            reader.error("unknown convention '\(text)'\(Suggestion.didYouMeanOrList(text, among: names))", at: node)
            return nil
        }
        return convention
    }

    private static func presence(convention: PresenceConvention, node: String) -> Presence {
        Presence(
            topic: convention.topic(node: node), convention: convention, payloads: convention.payloads,
            path: convention.path)
    }

    /// A presence block: a convention whose settings the explicit keys
    /// override, or a topic with `online` / `offline` payloads (by default
    /// `online` and `offline`, as an arduino-mqtt sketch sends them).
    private mutating func presence(_ node: Node, deviceID: String) -> Presence? {
        guard let fields = reader.mapping(node, as: "presence", allowed: Self.presenceKeys) else { return nil }
        let convention = fields["convention"].flatMap { self.convention($0) }
        if fields.has("convention"), convention == nil { return nil }
        let nodeName = fields["node"].flatMap { reader.text($0, for: "node") } ?? deviceID
        if let nodeKey = fields.keyNode("node"), convention == nil {
            reader.error("'node' names the device in a convention's topics; give 'convention' too", at: nodeKey)
        }
        let expireAfter = fields["expire_after"].flatMap { reader.duration($0, for: "expire_after") }
        let keepalive = fields["keepalive"].flatMap { reader.duration($0, for: "keepalive") }
        var topic = convention?.topic(node: nodeName)
        if let topicNode = fields["topic"] { topic = inputTopic(topicNode, for: "topic") }
        if topic == nil, convention == nil, !fields.has("topic"), expireAfter == nil {
            reader.error("presence needs a 'topic', a 'convention' or 'expire_after'", at: node)
            return nil
        }
        var payloads = convention?.payloads ?? ["online": .online, "offline": .offline]
        for (key, state) in [("online", PresenceState.online), ("offline", .offline)] {
            guard let valueNode = fields[key], let values = reader.texts(valueNode, for: key) else { continue }
            payloads = payloads.filter { $0.value != state }
            for value in values { payloads[value] = state }
        }
        let path = fields["path"].flatMap { reader.jsonPath($0, for: "path") } ?? convention?.path
        return Presence(
            topic: topic, convention: convention, payloads: payloads, path: path, expireAfter: expireAfter, keepalive: keepalive)
    }

    /// A topic the device publishes on and the daemon must hear: never one
    /// in the daemon's own space, which is output only.
    private mutating func inputTopic(_ node: Node, for key: String) -> String? {
        guard let topic = reader.topicName(node, for: key) else { return nil }
        guard !DaemonTopics.contains(topic) else {
            reader.error(DaemonTopics.inputProblem(topic), at: node)
            return nil
        }
        return topic
    }

    // MARK: Sensors and actuators

    private mutating func sensor(name: String, _ node: Node) -> Sensor? {
        guard let fields = reader.mapping(node, as: "sensor '\(name)'", allowed: Self.sensorKeys) else { return nil }
        let topic = reader.required(fields, "topic", in: "sensor '\(name)'").flatMap { inputTopic($0, for: "topic") }
        var type: SensorType?
        if let typeNode = reader.required(fields, "type", in: "sensor '\(name)'"),
           let text = reader.text(typeNode, for: "type") {
            type = SensorType(rawValue: text.lowercased())
            if type == nil {
                let names = SensorType.allCases.map(\.rawValue)
                reader.error("unknown sensor type '\(text)'\(Suggestion.didYouMeanOrList(text, among: names))", at: typeNode)
            }
        }
        let path = fields["path"].flatMap { reader.jsonPath($0, for: "path") }
        let unit = fields["unit"].flatMap { reader.text($0, for: "unit") }
        var booleanPayloads: BinaryPayloads?
        if let payloadsNode = fields["payloads"] {
            if let type, type != .boolean, let key = fields.keyNode("payloads") {
                reader.error("'payloads' applies to boolean sensors only; this one is a \(type.rawValue)", at: key)
            }
            booleanPayloads = binaryPayloads(payloadsNode, toggle: false).map(\.payloads)
        }
        guard let topic, let type else { return nil }
        return Sensor(name: name, topic: topic, type: type, path: path, unit: unit, booleanPayloads: booleanPayloads)
    }

    private mutating func actuator(name: String, _ node: Node) -> Actuator? {
        guard let fields = reader.mapping(node, as: "actuator '\(name)'", allowed: Self.actuatorKeys) else { return nil }
        let commandTopic = reader.required(fields, "command_topic", in: "actuator '\(name)'")
            .flatMap { reader.topicName($0, for: "command_topic") }
        let stateTopic = fields["state_topic"].flatMap { inputTopic($0, for: "state_topic") }
        let statePath = fields["state_path"].flatMap { reader.jsonPath($0, for: "state_path") }
        if let key = fields.keyNode("state_path"), !fields.has("state_topic") {
            reader.error("'state_path' needs a 'state_topic'", at: key)
        }
        guard let type = actuatorType(fields, name: name) else { return nil }
        let control: ActuatorControl?
        switch type {
        case "number": control = numberBounds(fields, name: name).map { .number($0) }
        case "choice": control = options(fields, name: name).map { .choice($0) }
        default: control = .onOff
        }
        let commandTemplate = fields["command_template"].flatMap { valueTemplate($0) }
        let unit = fields["unit"].flatMap { reader.text($0, for: "unit") }
        let payloads = fields["payloads"].flatMap { binaryPayloads($0, toggle: true) }
        let qos = fields["qos"].flatMap { reader.integer($0, for: "qos", in: 0...2) } ?? 0
        let retain = fields["retain"].flatMap { reader.bool($0, for: "retain") } ?? false
        guard let commandTopic, let control, commandTemplate != nil || !fields.has("command_template") else { return nil }
        return Actuator(
            name: name, control: control, commandTopic: commandTopic, commandTemplate: commandTemplate, unit: unit,
            stateTopic: stateTopic, statePath: statePath,
            payloads: payloads?.payloads ?? BinaryPayloads(on: "ON", off: "OFF"), togglePayload: payloads?.toggle,
            qos: qos, retain: retain)
    }

    /// `type`: `switch` unless given; the keys of the other types are errors.
    private mutating func actuatorType(_ fields: YAMLMapping, name: String) -> String? {
        var type = "switch"
        if let typeNode = fields["type"] {
            guard let text = reader.text(typeNode, for: "type") else { return nil }
            let names = ["switch", "number", "choice"]
            guard names.contains(text.lowercased()) else {
                reader.error("unknown actuator type '\(text)'\(Suggestion.didYouMeanOrList(text, among: names))", at: typeNode)
                return nil
            }
            type = text.lowercased()
        }
        var valid = true
        for (owner, keys) in Self.actuatorTypeKeys.sorted(by: { $0.key < $1.key }) where owner != type {
            for key in keys where !(Self.actuatorTypeKeys[type] ?? []).contains(key) {
                guard let keyNode = fields.keyNode(key) else { continue }
                let owners = Self.actuatorTypeKeys.filter { $0.value.contains(key) }.keys.sorted().joined(separator: " and ")
                reader.error("'\(key)' applies to \(owners) actuators; '\(name)' is a \(type) (give 'type')", at: keyNode)
                valid = false
            }
        }
        return valid ? type : nil
    }

    private mutating func numberBounds(_ fields: YAMLMapping, name: String) -> NumberBounds? {
        let minNode = reader.required(fields, "min", in: "number actuator '\(name)'")
        let maxNode = reader.required(fields, "max", in: "number actuator '\(name)'")
        let min = minNode.flatMap { reader.number($0, for: "min") }
        let max = maxNode.flatMap { reader.number($0, for: "max") }
        let step = fields["step"].flatMap { reader.number($0, for: "step") }
        if let step, step <= 0, let stepNode = fields["step"] {
            reader.error("'step' must be above 0", at: stepNode)
            return nil
        }
        guard let min, let max else { return nil }
        guard min < max else {
            reader.error("'min' (\(Formatting.number(min))) must be below 'max' (\(Formatting.number(max)))", at: fields.node)
            return nil
        }
        return NumberBounds(min: min, max: max, step: step)
    }

    private mutating func options(_ fields: YAMLMapping, name: String) -> [String]? {
        guard let node = reader.required(fields, "options", in: "choice actuator '\(name)'"),
              let options = reader.texts(node, for: "options")
        else { return nil }
        var seen: Set<String> = []
        for option in options where !seen.insert(option.lowercased()).inserted {
            reader.error("'\(option)' is in 'options' twice (options match in any case)", at: node)
            return nil
        }
        return options
    }

    /// A command template may use `{{ value }}` only: what else would it mean?
    private mutating func valueTemplate(_ node: Node) -> Template? {
        guard let template = reader.template(node, for: "command_template") else { return nil }
        for path in template.variables where path != ["value"] {
            reader.error(
                "unknown template variable '\(path.joined(separator: "."))' in 'command_template': it has only {{ value }}", at: node)
            return nil
        }
        guard template.variables.count == 1 else {
            reader.error("'command_template' needs {{ value }} once, where the value goes", at: node)
            return nil
        }
        return template
    }

    /// `{ on: ..., off: ... }`, with `toggle` for actuators. Unset payloads
    /// keep Home Assistant's defaults `ON` and `OFF`.
    private mutating func binaryPayloads(_ node: Node, toggle: Bool) -> (payloads: BinaryPayloads, toggle: String?)? {
        let keys = toggle ? ["on", "off", "toggle"] : ["on", "off"]
        guard let fields = reader.mapping(node, as: "payloads", allowed: keys) else { return nil }
        let on = fields["on"].flatMap { reader.text($0, for: "on") } ?? "ON"
        let off = fields["off"].flatMap { reader.text($0, for: "off") } ?? "OFF"
        if on == off { reader.error("the 'on' and 'off' payloads must differ", at: node) }
        return (BinaryPayloads(on: on, off: off), fields["toggle"].flatMap { reader.text($0, for: "toggle") })
    }
}
