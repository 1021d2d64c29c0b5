import Yams

/// Reading `if`.
extension RuleParser {
    private static let conditionKeys = [
        "all", "any", "not", "sensor", "above", "below", "equals", "actuator", "device", "is", "after", "before", "weekdays",
    ]

    /// A condition, or nil after recording why it is invalid.
    mutating func condition(_ node: Node) -> Condition? {
        guard let fields = reader.mapping(node, as: "a condition", allowed: Self.conditionKeys) else { return nil }
        for group in ["all", "any", "not"] where fields.has(group) {
            guard fields.entries.count == 1 else {
                reader.error("'\(group)' must stand alone in its condition; put the other tests inside it", at: node)
                return nil
            }
            let parts = reader.items(fields[group]!).map { condition($0) }
            if parts.isEmpty { reader.error("'\(group)' needs at least one condition", at: fields[group]!) }
            guard !parts.isEmpty, !parts.contains(where: { $0 == nil }) else { return nil }
            let conditions = parts.compactMap { $0 }
            return group == "all" ? .all(conditions) : group == "any" ? .any(conditions) : .not(conditions)
        }
        if let sensorNode = fields["sensor"] {
            guard onlyKeys(["sensor", "above", "below", "equals"], in: fields, subject: "sensor") else { return nil }
            return sensorCondition(sensorNode, fields)
        }
        if let actuatorNode = fields["actuator"] {
            guard onlyKeys(["actuator", "is"], in: fields, subject: "actuator"),
                  let isNode = reader.required(fields, "is", in: "an actuator condition")
            else { return nil }
            let actuator = onOffActuator(actuatorNode, for: "actuator")
            if actuator == nil, isValueActuator(actuatorNode) { return nil }
            guard let state = actuatorState(isNode, for: "is"), let actuator else { return nil }
            return .actuator(actuator.name, is: state)
        }
        if let deviceNode = fields["device"] {
            guard onlyKeys(["device", "is"], in: fields, subject: "device"),
                  let isNode = reader.required(fields, "is", in: "a device condition")
            else { return nil }
            let device = deviceWithPresence(deviceNode, for: "device")
            guard let state = presenceState(isNode, for: "is"), let device else { return nil }
            return .presence(device: device.id, is: state)
        }
        if fields.has("after") || fields.has("before") || fields.has("weekdays") {
            guard onlyKeys(["after", "before", "weekdays"], in: fields, subject: "time") else { return nil }
            return timeWindow(fields).map { .time($0) }
        }
        reader.error(
            "a condition needs 'sensor', 'actuator', 'device', 'after'/'before'/'weekdays', or 'all'/'any'/'not'", at: node)
        return nil
    }

    private mutating func onlyKeys(_ keys: Set<String>, in fields: YAMLMapping, subject: String) -> Bool {
        var valid = true
        for entry in fields.entries where !keys.contains(entry.key) {
            reader.error("'\(entry.key)' does not apply to a \(subject) condition", at: entry.keyNode)
            valid = false
        }
        return valid
    }

    private mutating func sensorCondition(_ node: Node, _ fields: YAMLMapping) -> Condition? {
        let sensor = self.sensor(node, for: "sensor")
        if let equalsNode = fields["equals"] {
            if fields.has("above") || fields.has("below") {
                reader.error("give 'equals' or 'above'/'below', not both", at: fields.keyNode("equals")!)
                return nil
            }
            guard let sensor, let value = value(equalsNode, for: "equals", of: sensor) else { return nil }
            return .sensor(sensor.name, .equals(value))
        }
        guard fields.has("above") || fields.has("below") else {
            reader.error("a sensor condition needs 'above', 'below' or 'equals'", at: fields.node)
            return nil
        }
        let above = fields["above"].flatMap { threshold($0, for: "above", of: sensor) }
        let below = fields["below"].flatMap { threshold($0, for: "below", of: sensor) }
        guard let sensor, above != nil || !fields.has("above"), below != nil || !fields.has("below") else { return nil }
        if let above, let below, above >= below {
            reader.error("no value is above \(Formatting.number(above)) and below \(Formatting.number(below))", at: fields.node)
            return nil
        }
        return .sensor(sensor.name, .range(above: above, below: below))
    }

    private mutating func timeWindow(_ fields: YAMLMapping) -> TimeWindow? {
        var window = TimeWindow()
        var valid = true
        for key in ["after", "before"] {
            guard let node = fields[key], let text = reader.text(node, for: key) else { continue }
            let bound: TimeBound
            if let time = TimeOfDay(parsing: text) {
                bound = .clock(time)
            } else if let event = SunEvent(rawValue: text.lowercased()) {
                bound = .sun(event)
            } else {
                reader.error("invalid time '\(text)' for '\(key)': \(TimeOfDay.help), or sunrise or sunset", at: node)
                valid = false
                continue
            }
            if key == "after" { window.after = bound } else { window.before = bound }
        }
        if let node = fields["weekdays"] {
            var days = Set<Weekday>()
            for item in reader.items(node) {
                guard let text = reader.text(item, for: "weekdays") else { valid = false; continue }
                guard let day = Weekday(parsing: text) else {
                    reader.error("unknown weekday '\(text)': \(Weekday.help)", at: item)
                    valid = false
                    continue
                }
                days.insert(day)
            }
            window.weekdays = days
        }
        return valid ? window : nil
    }
}
