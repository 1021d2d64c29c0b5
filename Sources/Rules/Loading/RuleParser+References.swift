import Yams

/// Resolving `device`, `device.sensor` and `device.actuator` references, and
/// reading values in the type of what they refer to.
extension RuleParser {
    mutating func device(_ node: Node, for key: String) -> Device? {
        guard let id = reader.text(node, for: key) else { return nil }
        guard let device = devices[id] else {
            reader.error("unknown device '\(id)'\(Suggestion.didYouMean(id, among: devices.keys))", at: node)
            return nil
        }
        return device
    }

    /// A device that has presence, for `goes` and `is`.
    mutating func deviceWithPresence(_ node: Node, for key: String) -> Device? {
        guard let device = device(node, for: key) else { return nil }
        guard device.presence != nil else {
            reader.error("device '\(device.id)' has no presence: give it a 'presence' block or a 'convention'", at: node)
            return nil
        }
        return device
    }

    mutating func sensor(_ node: Node, for key: String) -> (name: QualifiedName, sensor: Sensor)? {
        guard let (name, device) = qualifiedName(node, for: key, kind: "sensor") else { return nil }
        guard let sensor = device.sensor(named: name.member) else {
            if brokenMembers[device.id]?.contains(name.member) == true { return nil }
            let other = device.actuator(named: name.member) != nil ? "; '\(name.member)' is an actuator" : ""
            reader.error(
                "device '\(device.id)' has no sensor '\(name.member)'"
                    + (other.isEmpty ? Suggestion.didYouMean(name.member, among: device.sensors.map(\.name) + brokenNames(of: device)) : other),
                at: node)
            return nil
        }
        return (name, sensor)
    }

    mutating func actuator(_ node: Node, for key: String) -> (name: QualifiedName, actuator: Actuator)? {
        guard let (name, device) = qualifiedName(node, for: key, kind: "actuator") else { return nil }
        guard let actuator = device.actuator(named: name.member) else {
            if brokenMembers[device.id]?.contains(name.member) == true { return nil }
            let other = device.sensor(named: name.member) != nil ? "; '\(name.member)' is a sensor" : ""
            reader.error(
                "device '\(device.id)' has no actuator '\(name.member)'"
                    + (other.isEmpty ? Suggestion.didYouMean(name.member, among: device.actuators.map(\.name) + brokenNames(of: device)) : other),
                at: node)
            return nil
        }
        return (name, actuator)
    }

    /// An actuator that switches on and off, for `toggle` and for triggers
    /// and conditions on its state: a number or choice actuator's value is
    /// a sensor's (`sensor: lamp.brightness`).
    mutating func onOffActuator(_ node: Node, for key: String) -> (name: QualifiedName, actuator: Actuator)? {
        guard let found = actuator(node, for: key) else { return nil }
        guard found.actuator.isOnOff else {
            let hint = key == "toggle" ? "set it with 'set' and 'to'" : "test its value with 'sensor: \(found.name)'"
            reader.error("'\(found.name)' is a \(found.actuator.control.typeName) actuator, not on and off: \(hint)", at: node)
            return nil
        }
        return found
    }

    /// Whether `node` names a number or choice actuator: its `to`, `from` or
    /// `is` is then not read as on or off, which would be a second error.
    func isValueActuator(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, let name = QualifiedName(parsing: scalar.string) else { return false }
        return devices[name.device]?.actuator(named: name.member).map { !$0.isOnOff } ?? false
    }

    /// Members of `device` that had errors of their own: still names the
    /// user meant, for "did you mean".
    private func brokenNames(of device: Device) -> [String] {
        brokenMembers[device.id].map { $0.sorted() } ?? []
    }

    private mutating func qualifiedName(_ node: Node, for key: String, kind: String) -> (QualifiedName, Device)? {
        guard let text = reader.text(node, for: key) else { return nil }
        guard let name = QualifiedName(parsing: text) else {
            reader.error("expected 'device.\(kind)' for '\(key)', found '\(text)'", at: node)
            return nil
        }
        guard let device = devices[name.device] else {
            reader.error("unknown device '\(name.device)'\(Suggestion.didYouMean(name.device, among: devices.keys))", at: node)
            return nil
        }
        return (name, device)
    }

    /// A value compared with a sensor, read in the sensor's type.
    mutating func value(_ node: Node, for key: String, of sensor: (name: QualifiedName, sensor: Sensor)) -> SensorValue? {
        guard let text = reader.text(node, for: key) else { return nil }
        switch sensor.sensor.type {
        case .number:
            guard let number = Double(text.trimmingCharacters(in: .whitespaces)) else {
                reader.error("sensor '\(sensor.name)' is a number; '\(text)' is not a number", at: node)
                return nil
            }
            return .number(number)
        case .boolean:
            guard let value = SensorReading.boolean(text, payloads: sensor.sensor.booleanPayloads) else {
                reader.error("sensor '\(sensor.name)' is a boolean; '\(text)' is not true or false", at: node)
                return nil
            }
            return .boolean(value)
        case .string:
            return .string(text)
        }
    }

    /// A number compared with a sensor, which must be a number sensor.
    mutating func threshold(_ node: Node, for key: String, of sensor: (name: QualifiedName, sensor: Sensor)?) -> Double? {
        let number = reader.number(node, for: key)
        if let sensor, sensor.sensor.type != .number {
            reader.error("'\(key)' needs a number sensor; '\(sensor.name)' is a \(sensor.sensor.type.rawValue)", at: node)
            return nil
        }
        return number
    }

    /// What `set` asks `actuator` for, read in what it takes.
    mutating func setting(_ node: Node, for actuator: (name: QualifiedName, actuator: Actuator)) -> ActuatorSetting? {
        if actuator.actuator.isOnOff { return actuatorState(node, for: "to").map { .state($0) } }
        guard let text = reader.text(node, for: "to") else { return nil }
        switch actuator.actuator.setting(named: text) {
        case .success(let setting): return setting
        case .failure(let problem):
            reader.error("'\(actuator.name)' \(problem)", at: node)
            return nil
        }
    }

    mutating func actuatorState(_ node: Node, for key: String) -> ActuatorState? {
        guard let text = reader.text(node, for: key) else { return nil }
        switch text.lowercased() {
        case "on", "true": return .on
        case "off", "false": return .off
        default:
            reader.error("expected on or off for '\(key)', found '\(text)'", at: node)
            return nil
        }
    }

    mutating func presenceState(_ node: Node, for key: String) -> PresenceState? {
        guard let text = reader.text(node, for: key) else { return nil }
        guard let state = PresenceState(rawValue: text.lowercased()), state != .unknown else {
            let names = PresenceState.namable.map(\.rawValue)
            reader.error("unknown presence state '\(text)'\(Suggestion.didYouMeanOrList(text, among: names))", at: node)
            return nil
        }
        return state
    }
}
