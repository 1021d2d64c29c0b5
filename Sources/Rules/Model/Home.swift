/// A validated home: its devices and rules, every reference checked.
///
/// Build one with `HomeLoader`; the engine relies on its references being
/// valid.
public struct Home: Sendable, Hashable {
    /// In file order.
    public let devices: [Device]
    /// In file order, disabled ones included.
    public let rules: [Rule]

    /// This home with the rules named in `overrides` enabled or disabled
    /// (`homerules rules enable` / `disable`, which win over the files).
    public func overriding(enabled overrides: [String: Bool]) -> Home {
        guard !overrides.isEmpty else { return self }
        return Home(devices: devices, rules: rules.map { rule in
            var rule = rule
            if let enabled = overrides[rule.id] { rule.enabled = enabled }
            return rule
        })
    }

    /// A home with nothing in it: what the daemon runs with before any
    /// configuration exists.
    public static let empty = Home(devices: [], rules: [])

    init(devices: [Device], rules: [Rule]) {
        self.devices = devices
        self.rules = rules
    }

    public func device(id: String) -> Device? { devices.first { $0.id == id } }
    public func rule(id: String) -> Rule? { rules.first { $0.id == id } }

    /// Every topic and topic filter the daemon must subscribe to: presence,
    /// sensor and actuator state topics, and the filters of `mqtt` triggers.
    public var topics: Set<String> {
        var topics = Set(devices.flatMap(\.topics))
        for rule in rules where rule.enabled {
            for trigger in rule.triggers {
                if case .mqtt(let filter, _) = trigger.kind { topics.insert(filter.description) }
            }
        }
        return topics
    }

    /// Sensors of their own: a number or choice actuator's echo counts as the actuator.
    public var sensorCount: Int { devices.reduce(0) { device, next in device + next.sensors.count { !next.isEcho($0) } } }
    public var actuatorCount: Int { devices.reduce(0) { $0 + $1.actuators.count } }

    /// `3 devices, 4 sensors, 2 actuators, 5 rules`, with `(1 disabled)` after
    /// the rules when some are (in their files, or by `homerules rules disable`).
    public var summary: String {
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        let disabled = rules.count { !$0.enabled }
        return [
            count(devices.count, "device"), count(sensorCount, "sensor"),
            count(actuatorCount, "actuator"), count(rules.count, "rule") + (disabled > 0 ? " (\(disabled) disabled)" : ""),
        ].joined(separator: ", ")
    }
}
