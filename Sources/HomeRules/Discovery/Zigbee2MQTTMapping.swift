import Rules

/// A device of Zigbee2MQTT's `bridge/devices` list, with the sensors and
/// actuators its `exposes` give.
struct Zigbee2MQTTDevice: Sendable, Hashable {
    var friendlyName: String
    var ieeeAddress: String
    var members = DiscoveredMembers()
}

/// Reads the device list that Zigbee2MQTT publishes, retained, on
/// `<base_topic>/bridge/devices`: one entry per paired device, whose
/// `definition.exposes` say what it reports and what it takes.
///
/// An expose's `access` is a bit set: 1, the device publishes the property
/// in its state message on `<base>/<friendly name>`; 2, the property can be
/// set with `<base>/<friendly name>/set`; 4, it can be asked for.
enum Zigbee2MQTTMapping {
    private static let published = 1
    private static let settable = 2

    /// The devices of the list (the coordinator left out), at most `limit`,
    /// and the entries that give none.
    static func devices(
        in document: JSONValue, baseTopic: String, limit: Int
    ) -> (devices: [Zigbee2MQTTDevice], notConverted: [NotConverted]) {
        let listTopic = "\(baseTopic)/bridge/devices"
        guard let entries = document.elements else {
            return ([], [NotConverted(topic: listTopic, reason: "not a JSON list of devices")])
        }
        var devices: [Zigbee2MQTTDevice] = []
        var notConverted: [NotConverted] = []
        for entry in entries where entry["type"]?.string != "Coordinator" {
            guard let friendlyName = entry["friendly_name"]?.text, !friendlyName.isEmpty else { continue }
            guard devices.count < limit else {
                notConverted.append(NotConverted(topic: listTopic, reason: "more than \(limit) devices; the rest are left out"))
                break
            }
            guard let exposes = entry["definition"]?["exposes"]?.elements else {
                notConverted.append(NotConverted(
                    topic: listTopic, reason: "device '\(friendlyName)' has no definition: unsupported, or not interviewed yet"))
                continue
            }
            let stateTopic = "\(baseTopic)/\(friendlyName)"
            // Zigbee2MQTT refuses such names itself; the list is still input from the network.
            if let problem = DiscoveryNames.topicProblem(stateTopic + "/set") {
                notConverted.append(NotConverted(
                    topic: listTopic, reason: "device '\(friendlyName.prefix(80))' makes no topic name: \(problem)"))
                continue
            }
            var device = Zigbee2MQTTDevice(friendlyName: friendlyName, ieeeAddress: entry["ieee_address"]?.text ?? "")
            var pending = exposes.reversed() as [JSONValue]
            while let expose = pending.popLast() {
                let type = expose["type"]?.string ?? ""
                if type != "composite", type != "list", let features = expose["features"]?.elements {
                    pending.append(contentsOf: features.reversed())
                    continue
                }
                add(expose, type: type, stateTopic: stateTopic, to: &device.members)
            }
            devices.append(device)
        }
        return (devices, notConverted)
    }

    /// Adds what one feature gives: an actuator when it can be set, a
    /// sensor when it is only published.
    private static func add(_ expose: JSONValue, type: String, stateTopic: String, to members: inout DiscoveredMembers) {
        guard let property = expose["property"]?.string, !property.isEmpty else { return }
        // It becomes a JSON path and a key in a command template: a name that reads as more (`a.b`, `x[0]`, `{{`) is not converted.
        guard JSONPath(property)?.segments == [.key(property)], !property.contains("{{"), !property.contains("}}") else {
            members.notes.append("\(property) not converted: not a plain JSON key")
            return
        }
        if type == "composite" || type == "list" {
            members.notes.append("\(property) (\(type)) not converted")
            return
        }
        let access = Int(expose["access"]?.number ?? 0)
        let name = DiscoveryNames.slug(property).isEmpty ? "value" : DiscoveryNames.slug(property)
        let unit = expose["unit"]?.text
        let readable = access & published != 0
        let commandTopic = "\(stateTopic)/set"
        let key = JSONValue.string(property).jsonText ?? "\"\(property)\""
        if access & settable != 0 {
            var actuator: ProposedActuator?
            switch type {
            case "binary":
                if let on = expose["value_on"]?.jsonText, let off = expose["value_off"]?.jsonText, on != off {
                    actuator = ProposedActuator(name: name, control: .onOff, commandTopic: commandTopic)
                    actuator?.payloads = BinaryPayloads(on: "{\(key):\(on)}", off: "{\(key):\(off)}")
                }
            case "numeric":
                if let min = expose["value_min"]?.number, let max = expose["value_max"]?.number, min < max {
                    let step = expose["value_step"]?.number.flatMap { $0 > 0 ? $0 : nil }
                    actuator = ProposedActuator(name: name, control: .number(NumberBounds(min: min, max: max, step: step)), commandTopic: commandTopic)
                    actuator?.commandTemplate = "{\(key): {{ value }}}"
                    actuator?.unit = unit
                }
            case "enum":
                let options = expose["values"]?.elements?.compactMap(\.text) ?? []
                if !options.isEmpty, Set(options.map { $0.lowercased() }).count == options.count {
                    actuator = ProposedActuator(name: name, control: .choice(options), commandTopic: commandTopic)
                    actuator?.commandTemplate = "{\(key): \"{{ value }}\"}"
                }
            default:
                break
            }
            if var actuator {
                if readable {
                    actuator.stateTopic = stateTopic
                    actuator.statePath = property
                }
                members.actuators.append(actuator)
                return
            }
        }
        guard readable else { return }
        var sensor = ProposedSensor(name: name, topic: stateTopic, type: .string, path: property)
        switch type {
        case "numeric":
            sensor.type = .number
            sensor.unit = unit
        case "binary":
            sensor.type = .boolean
            let on = expose["value_on"]?.text ?? "true", off = expose["value_off"]?.text ?? "false"
            if (on, off) != ("true", "false"), on != off { sensor.payloads = BinaryPayloads(on: on, off: off) }
        case "enum", "text":
            break
        default:
            members.notes.append("\(property) (\(type)) not converted")
            return
        }
        if access & settable != 0 { sensor.notes.append("settable, but its \(type) values give no actuator; only read") }
        members.sensors.append(sensor)
    }
}
