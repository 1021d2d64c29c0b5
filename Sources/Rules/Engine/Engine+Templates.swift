import Foundation

/// Filling in `{{ }}` templates; the variables are those `TemplateScope`
/// accepts when rules load.
extension Engine {
    func render(_ template: Template, rule: Rule, context: TriggerContext, at now: Date) -> String {
        template.render { path in value(of: path, rule: rule, context: context, at: now) }
    }

    /// Renders `template` with its secrets left as names, for the daemon to
    /// fill in as it sends: a secret's value never enters the engine's
    /// outputs, and a value that merely looks like `{{ secrets.x }}` (a
    /// payload, say) stays text.
    func renderKeepingSecrets(_ template: Template, rule: Rule, context: TriggerContext, at now: Date) -> SecretText {
        var parts: [SecretText.Part] = []
        for part in template.parts {
            switch part {
            case .text(let text): parts.append(.text(text))
            case .variable(let path) where path.count == 2 && path[0] == SecretText.root: parts.append(.secret(path[1]))
            case .variable(let path): parts.append(.text(value(of: path, rule: rule, context: context, at: now) ?? ""))
            }
        }
        return SecretText(parts: parts)
    }

    private func value(of path: [String], rule: Rule, context: TriggerContext, at now: Date) -> String? {
        switch (path[0], path.count) {
        case ("trigger", 2):
            switch path[1] {
            case "kind": return context.kind
            case "topic": return context.topic
            case "payload": return context.payload
            case "value": return context.value
            case "previous": return context.previous
            case "device": return context.device
            default: return nil
            }
        case ("rule", 2):
            return path[1] == "id" ? rule.id : rule.description
        case ("now", 1):
            return Formatting.calendarDate(now, calendar: calendar) + " " + Formatting.clockTime(now, calendar: calendar)
        case ("now", 2):
            return path[1] == "date" ? Formatting.calendarDate(now, calendar: calendar) : Formatting.clockTime(now, calendar: calendar)
        case ("device", 2):
            return context.device.flatMap { deviceField($0, path[1]) }
        case ("devices", 3):
            return deviceField(path[1], path[2])
        default:
            return nil
        }
    }

    /// A device's id, name, room or presence, or the last value of one of
    /// its sensors or actuators.
    private func deviceField(_ id: String, _ field: String) -> String? {
        guard let index = index.deviceByID[id] else { return nil }
        let device = home.devices[index]
        switch field {
        case "id": return device.id
        case "name": return device.name
        case "room": return device.room
        case "presence": return devices[index].presence.rawValue
        default:
            if let sensor = device.sensors.firstIndex(where: { $0.name == field }) {
                return devices[index].sensors[sensor].value?.description
            }
            if let actuator = device.actuators.firstIndex(where: { $0.name == field }) {
                return devices[index].actuators[actuator].value?.rawValue
            }
            return nil
        }
    }
}
