import MQTTTopics
import Yams

/// Reading `when`.
extension RuleParser {
    private static let subjectKeys = ["sensor", "actuator", "device", "mqtt", "at", "cron", "sun"]
    private static let timeSubjects: Set<String> = ["at", "cron", "sun"]
    private static let triggerKeys = subjectKeys + [
        "above", "below", "hysteresis", "equals", "from", "to", "goes", "payload", "for", "fire_on_first_value", "offset",
    ]
    /// The keys each kind of trigger takes besides its subject and `for`.
    private static let keysBySubject: [String: Set<String>] = [
        "sensor": ["above", "below", "hysteresis", "equals", "from", "to", "fire_on_first_value"],
        "actuator": ["equals", "from", "to", "fire_on_first_value"],
        "device": ["goes", "fire_on_first_value"],
        "mqtt": ["payload", "fire_on_first_value"],
        "at": [], "cron": [], "sun": ["offset"],
    ]

    /// A trigger, or nil after recording why it is invalid.
    mutating func trigger(_ node: Node) -> Trigger? {
        guard let fields = reader.mapping(node, as: "a trigger", allowed: Self.triggerKeys) else { return nil }
        let subjects = Self.subjectKeys.filter(fields.has)
        guard let subject = subjects.first else {
            reader.error("a trigger needs one of 'sensor', 'actuator', 'device', 'mqtt', 'at', 'cron' or 'sun'", at: node)
            return nil
        }
        if subjects.count > 1, let extra = fields.keyNode(subjects[1]) {
            reader.error("a trigger watches one thing: give '\(subject)' or '\(subjects[1])', not both", at: extra)
            return nil
        }
        let allowed = Self.keysBySubject[subject]!.union([subject, "for"])
        var misplaced = false
        for entry in fields.entries where !allowed.contains(entry.key) {
            let noun = Self.timeSubjects.contains(subject) ? "time" : subject
            reader.error("'\(entry.key)' does not apply to \(noun == "actuator" ? "an" : "a") \(noun) trigger", at: entry.keyNode)
            misplaced = true
        }
        let subjectNode = fields[subject]!
        let kind: Trigger.Kind? = switch subject {
        case "sensor": sensorTrigger(subjectNode, fields)
        case "actuator": actuatorTrigger(subjectNode, fields)
        case "device": presenceTrigger(subjectNode, fields)
        case "mqtt": mqttTrigger(subjectNode, fields)
        case "at": timesOfDay(subjectNode).map { .schedule(.daily($0)) }
        case "sun": sunSchedule(subjectNode, fields).map { .schedule($0) }
        default: cron(subjectNode).map { .schedule(.cron($0)) }
        }
        let hold = fields["for"].flatMap { reader.duration($0, for: "for") }
        if let forKey = fields.keyNode("for") {
            if Self.timeSubjects.contains(subject) {
                reader.error("'for' needs a state that holds; a time trigger is a moment", at: forKey)
                return nil
            }
            if subject == "mqtt", !fields.has("payload") {
                reader.error("'for' on an mqtt trigger needs a 'payload' that must stay the last message that long", at: forKey)
                return nil
            }
        }
        let firesOnFirstValue = fields["fire_on_first_value"].flatMap { reader.bool($0, for: "fire_on_first_value") } ?? false
        guard let kind, !misplaced else { return nil }
        return Trigger(kind, hold: hold, firesOnFirstValue: firesOnFirstValue)
    }

    private mutating func sensorTrigger(_ node: Node, _ fields: YAMLMapping) -> Trigger.Kind? {
        let sensor = self.sensor(node, for: "sensor")
        if fields.has("above") || fields.has("below") {
            for key in ["equals", "from", "to"] {
                if let keyNode = fields.keyNode(key) {
                    reader.error("give a threshold ('above'/'below') or a state ('\(key)'), not both", at: keyNode)
                    return nil
                }
            }
            let above = fields["above"].flatMap { threshold($0, for: "above", of: sensor) }
            let below = fields["below"].flatMap { threshold($0, for: "below", of: sensor) }
            let hysteresis = fields["hysteresis"].flatMap { reader.number($0, for: "hysteresis") } ?? 0
            if hysteresis < 0, let hysteresisNode = fields["hysteresis"] {
                reader.error("'hysteresis' must not be negative", at: hysteresisNode)
                return nil
            }
            if let above, let below, above >= below {
                reader.error("no value is above \(Formatting.number(above)) and below \(Formatting.number(below))", at: fields.node)
                return nil
            }
            guard let sensor, above != nil || !fields.has("above"), below != nil || !fields.has("below") else { return nil }
            return .threshold(sensor.name, Threshold(above: above, below: below, hysteresis: hysteresis))
        }
        if let key = fields.keyNode("hysteresis") {
            reader.error("'hysteresis' needs 'above' or 'below'", at: key)
            return nil
        }
        guard let sensor, let change = stateChange(fields, read: { parser, node, key in parser.value(node, for: key, of: sensor) })
        else { return nil }
        return .sensorChange(sensor.name, change)
    }

    private mutating func actuatorTrigger(_ node: Node, _ fields: YAMLMapping) -> Trigger.Kind? {
        let actuator = onOffActuator(node, for: "actuator")
        if actuator == nil, isValueActuator(node) { return nil }
        guard let change = stateChange(fields, read: { parser, node, key in parser.actuatorState(node, for: key) }),
              let actuator
        else { return nil }
        return .actuatorChange(actuator.name, change)
    }

    /// `to` (or its synonym `equals`) and `from`.
    private mutating func stateChange<Value>(
        _ fields: YAMLMapping, read: (inout RuleParser, Node, String) -> Value?
    ) -> StateChange<Value>? {
        if fields.has("equals"), let to = fields.keyNode("to") {
            reader.error("'equals' and 'to' mean the same in a trigger; give one", at: to)
            return nil
        }
        var change = StateChange<Value>()
        for key in ["to", "equals", "from"] {
            guard let node = fields[key] else { continue }
            guard let value = read(&self, node, key) else { return nil }
            if key == "from" { change.from = value } else { change.to = value }
        }
        return change
    }

    private mutating func presenceTrigger(_ node: Node, _ fields: YAMLMapping) -> Trigger.Kind? {
        let device = deviceWithPresence(node, for: "device")
        guard let goesNode = reader.required(fields, "goes", in: "a device trigger") else { return nil }
        guard let state = presenceState(goesNode, for: "goes"), let device else { return nil }
        return .presence(device: device.id, goes: state)
    }

    private mutating func mqttTrigger(_ node: Node, _ fields: YAMLMapping) -> Trigger.Kind? {
        guard let text = reader.text(node, for: "mqtt") else { return nil }
        let filter: TopicFilter
        do {
            filter = try TopicFilter(text)
        } catch {
            reader.error("invalid topic filter '\(text)': \(error)", at: node)
            return nil
        }
        guard !DaemonTopics.containsEveryMatch(of: filter) else {
            reader.error(DaemonTopics.inputProblem(text), at: node)
            return nil
        }
        let payload = fields["payload"].flatMap { reader.text($0, for: "payload") }
        if fields.has("payload"), payload == nil { return nil }
        return .mqtt(filter, payload: payload)
    }

    private mutating func timesOfDay(_ node: Node) -> [TimeOfDay]? {
        guard let texts = reader.texts(node, for: "at") else { return nil }
        var times: [TimeOfDay] = []
        for (text, item) in zip(texts, reader.items(node)) {
            guard let time = TimeOfDay(parsing: text) else {
                reader.error("invalid time '\(text)' for 'at': \(TimeOfDay.help)", at: item)
                return nil
            }
            times.append(time)
        }
        return times
    }

    /// `sun: sunset` with an optional `offset: -30m` (before) or `offset: 1h` (after).
    private mutating func sunSchedule(_ node: Node, _ fields: YAMLMapping) -> Schedule? {
        guard let event = sunEvent(node, for: "sun") else { return nil }
        guard let offsetNode = fields["offset"] else { return .sun(event, offset: .zero) }
        guard let offset = signedOffset(offsetNode, for: "offset") else { return nil }
        return .sun(event, offset: offset)
    }

    /// `sunrise` or `sunset`, with "did you mean".
    mutating func sunEvent(_ node: Node, for key: String) -> SunEvent? {
        guard let text = reader.text(node, for: key) else { return nil }
        guard let event = SunEvent(rawValue: text.lowercased()) else {
            reader.error("unknown sun event '\(text)'\(Suggestion.didYouMeanOrList(text, among: SunEvent.allCases.map(\.rawValue)))", at: node)
            return nil
        }
        return event
    }

    /// A duration with an optional sign, at most 12 h either way.
    mutating func signedOffset(_ node: Node, for key: String) -> Duration? {
        guard let text = reader.text(node, for: key) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let negative = trimmed.hasPrefix("-")
        let magnitude = negative || trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed
        guard let duration = DurationSyntax.parse(magnitude), duration <= Schedule.maximumSunOffset else {
            reader.error("invalid offset '\(text)' for '\(key)': write a duration, negative for before, like -30m or 1h, up to 12h", at: node)
            return nil
        }
        return negative ? .zero - duration : duration
    }

    private mutating func cron(_ node: Node) -> CronExpression? {
        guard let text = reader.text(node, for: "cron") else { return nil }
        do {
            return try CronExpression(parsing: text)
        } catch {
            reader.error("invalid cron expression '\(text)': \(error.message)", at: node)
            return nil
        }
    }
}
