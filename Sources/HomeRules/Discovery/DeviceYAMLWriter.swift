import Rules

/// Writes a proposal as a device file, in the style of the examples in
/// `devices/`: block mappings, the device's keys first, and the notes as
/// comments beside what they are about.
public enum DeviceYAMLWriter {
    /// The file's text.
    public static func yaml(for proposal: DeviceProposal) -> String {
        var lines = ["# Proposed by `homerules discover` from:"]
        lines += proposal.sources.map { comment("  \($0)") }
        lines += proposal.notes.map(comment)
        lines.append("id: \(scalar(proposal.id))")
        lines.append("name: \(scalar(proposal.name))")
        switch proposal.presence {
        case .convention(let convention, let node)?:
            lines += ["presence:", "  convention: \(convention.rawValue)", "  node: \(scalar(node))"]
        case .topic(let topic, let online, let offline, let path)?:
            lines += ["presence:", "  topic: \(scalar(topic))", "  online: \(scalar(online))", "  offline: \(scalar(offline))"]
            if let path { lines.append("  path: \(scalar(path))") }
        case nil:
            break
        }
        if !proposal.sensors.isEmpty {
            lines.append("sensors:")
            for sensor in proposal.sensors { lines += self.lines(for: sensor) }
        }
        if !proposal.actuators.isEmpty {
            lines.append("actuators:")
            for actuator in proposal.actuators { lines += self.lines(for: actuator) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func lines(for sensor: ProposedSensor) -> [String] {
        var lines = ["  \(sensor.name):"]
        lines += sensor.notes.map { "    " + comment($0) }
        lines.append("    topic: \(scalar(sensor.topic))")
        lines.append("    type: \(sensor.type.rawValue)")
        if let path = sensor.path { lines.append("    path: \(scalar(path))") }
        if let unit = sensor.unit { lines.append("    unit: \(scalar(unit))") }
        if let payloads = sensor.payloads { lines.append("    payloads: \(flow(payloads))") }
        return lines
    }

    private static func lines(for actuator: ProposedActuator) -> [String] {
        var lines = ["  \(actuator.name):"]
        lines += actuator.notes.map { "    " + comment($0) }
        switch actuator.control {
        case .onOff:
            break
        case .number(let bounds):
            lines += ["    type: number", "    min: \(Formatting.number(bounds.min))", "    max: \(Formatting.number(bounds.max))"]
            if let step = bounds.step { lines.append("    step: \(Formatting.number(step))") }
            if let unit = actuator.unit { lines.append("    unit: \(scalar(unit))") }
        case .choice(let options):
            lines += ["    type: choice", "    options: [\(options.map(scalar).joined(separator: ", "))]"]
        }
        lines.append("    command_topic: \(scalar(actuator.commandTopic))")
        if let template = actuator.commandTemplate { lines.append("    command_template: \(scalar(template))") }
        if let topic = actuator.stateTopic { lines.append("    state_topic: \(scalar(topic))") }
        if let path = actuator.statePath, actuator.stateTopic != nil { lines.append("    state_path: \(scalar(path))") }
        if actuator.control == .onOff { lines.append("    payloads: \(flow(actuator.payloads))") }
        return lines
    }

    private static func flow(_ payloads: BinaryPayloads) -> String {
        "{ on: \(scalar(payloads.on)), off: \(scalar(payloads.off)) }"
    }

    /// A comment line: a note may quote a template or a topic, never a
    /// line break (which would end the comment and start YAML of the
    /// announcer's choosing) nor a control character (which YAML forbids
    /// anywhere in the file): those are spelt out as `\u{7}`.
    private static func comment(_ note: String) -> String {
        var line = "# "
        for scalar in note.unicodeScalars {
            if scalar.properties.generalCategory.isControl, scalar != "\t" {
                line += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                line.unicodeScalars.append(scalar)
            }
        }
        return line
    }

    /// Words that YAML 1.1 reads as booleans or null: quoted so that
    /// nobody reading the file takes a payload for a flag.
    private static let specialWords: Set = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"]

    /// `text` as a YAML scalar that reads back as the same text, in any
    /// context (block or flow): plain when that is safe, quoted otherwise.
    static func scalar(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "/", "-", " ": true
            default: false
            }
        }
        let plainStart = text.unicodeScalars.first.map { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "/" } ?? false
        if safe, plainStart, !text.hasSuffix(" "), !text.contains("  "), !specialWords.contains(text.lowercased()), Double(text) == nil {
            return text
        }
        let printable = text.unicodeScalars.allSatisfy { !$0.properties.generalCategory.isControl }
        if printable, text.contains("\""), !text.contains("'") { return "'\(text)'" }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default:
                if scalar.properties.generalCategory.isControl {
                    let hex = String(scalar.value, radix: 16), width = scalar.value > 0xFFFF ? 8 : 4
                    quoted += (width == 8 ? "\\U" : "\\u") + String(repeating: "0", count: width - hex.count) + hex
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}

private extension Unicode.GeneralCategory {
    var isControl: Bool { self == .control || self == .format || self == .lineSeparator || self == .paragraphSeparator }
}
