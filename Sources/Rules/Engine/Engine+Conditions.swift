import Foundation

/// Evaluating `if` against the current state, with a reason either way.
extension Engine {
    /// Why the conditions do not all hold, or nil when they do.
    func conditionFailure(_ conditions: [Condition], at now: Date) -> String? {
        for condition in conditions {
            let (holds, reason) = evaluate(condition, at: now)
            if !holds {
                switch condition {
                case .all, .any, .not: return reason
                default: return "condition false: \(reason)"
                }
            }
        }
        return nil
    }

    func evaluate(_ condition: Condition, at now: Date) -> (holds: Bool, reason: String) {
        switch condition {
        case .all(let parts):
            for part in parts {
                let (holds, reason) = evaluate(part, at: now)
                if !holds { return (false, "condition `all` false: \(reason)") }
            }
            return (true, "all of \(parts.count) hold")
        case .any(let parts):
            var reasons: [String] = []
            for part in parts {
                let (holds, reason) = evaluate(part, at: now)
                if holds { return (true, reason) }
                reasons.append(reason)
            }
            return (false, "condition `any` false: \(reasons.joined(separator: "; "))")
        case .not(let parts):
            for part in parts {
                let (holds, reason) = evaluate(part, at: now)
                if holds { return (false, "condition `not` false: \(reason)") }
            }
            return (true, "none of \(parts.count) holds")
        case .sensor(let name, let test):
            guard let (device, sensor) = index.sensor(name, in: home),
                  let value = devices[device].sensors[sensor].current
            else { return (false, "\(name) has no current value") }
            return Self.evaluate(test, name: name.description, value: value)
        case .actuator(let name, let expected):
            guard let (device, actuator) = index.actuator(name, in: home),
                  let state = devices[device].actuators[actuator].current
            else { return (false, "\(name) is in an unknown state") }
            return state == expected ? (true, "\(name) is \(state)") : (false, "\(name) is \(state), not \(expected)")
        case .presence(let id, let expected):
            let state = index.deviceByID[id].map { devices[$0].presence } ?? .unknown
            return state == expected ? (true, "\(id) is \(state)") : (false, "\(id) is \(state), not \(expected)")
        case .time(let window):
            let shown = "it is \(TimeOfDay(of: now, in: calendar)) on \(Weekday(of: now, in: calendar))"
            return window.contains(now, calendar: calendar, location: location)
                ? (true, "\(shown), \(window)") : (false, "\(shown), not \(window)")
        }
    }

    private static func evaluate(_ test: SensorTest, name: String, value: SensorValue) -> (holds: Bool, reason: String) {
        switch test {
        case .equals(let expected):
            return value == expected ? (true, "\(name) is \(value)") : (false, "\(name) is \(value), not \(expected)")
        case .range(let above, let below):
            guard let number = value.number else { return (false, "\(name) is not a number") }
            let threshold = Threshold(above: above, below: below)
            let holds = threshold.enters(number)
            return (holds, thresholdReason(name, number, threshold, holds: holds, wasHolding: false))
        }
    }
}
