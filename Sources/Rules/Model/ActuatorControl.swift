/// What an actuator takes: on and off, a number within bounds (brightness,
/// a setpoint, a position), or one of a list of words (a mode).
public enum ActuatorControl: Sendable, Hashable, Codable {
    case onOff
    case number(NumberBounds)
    case choice([String])

    /// `switch`, `number`, `choice`: as `type` spells it in a device file.
    public var typeName: String {
        switch self {
        case .onOff: "switch"
        case .number: "number"
        case .choice: "choice"
        }
    }

    /// What the actuator takes, for messages: `on or off`, `a number from 0 to 254`.
    public var spoken: String {
        switch self {
        case .onOff: "on or off"
        case .number(let bounds): "a number from \(Formatting.number(bounds.min)) to \(Formatting.number(bounds.max))"
                + (bounds.step.map { " in steps of \(Formatting.number($0))" } ?? "")
        case .choice(let options): "one of \(options.joined(separator: ", "))"
        }
    }
}

/// The values a number actuator accepts.
public struct NumberBounds: Sendable, Hashable, Codable {
    public var min: Double
    public var max: Double
    /// When set, a value must be `min` plus a whole number of steps.
    public var step: Double?

    public init(min: Double, max: Double, step: Double? = nil) {
        self.min = min
        self.max = max
        self.step = step
    }

    /// Why `value` is not accepted, or nil when it is.
    func problem(with value: Double) -> String? {
        guard value.isFinite, value >= min, value <= max else { return "\(Formatting.number(value)) is out of range" }
        guard let step, step > 0 else { return nil }
        let steps = (value - min) / step
        // Decimal steps (0.1, 0.5) do not divide exactly in binary.
        guard abs(steps - steps.rounded()) < 1e-9 * Swift.max(1, abs(steps)) else {
            return "\(Formatting.number(value)) is not \(Formatting.number(min)) plus a whole number of steps"
        }
        return nil
    }
}

/// What a `set` asks an actuator for: a state, a number or an option.
public enum ActuatorSetting: Sendable, Hashable, Codable, CustomStringConvertible {
    case state(ActuatorState)
    case number(Double)
    case option(String)

    /// `on`, `40`, `heat`: as the value reads in traces and on the command line.
    public var description: String {
        switch self {
        case .state(let state): state.rawValue
        case .number(let number): Formatting.number(number)
        case .option(let option): option
        }
    }

    /// The value a number or choice actuator then reports, as its echo reads it.
    public var reportedValue: SensorValue? {
        switch self {
        case .state: nil
        case .number(let number): .number(number)
        case .option(let option): .string(option)
        }
    }
}

extension Actuator {
    /// Whether the actuator switches on and off, rather than taking a value.
    public var isOnOff: Bool { control == .onOff }

    /// The setting `text` asks for, read in what the actuator takes, or why
    /// it takes no such thing. On and off read as ``state(named:)`` does; an
    /// option matches in any case and comes back as the file spells it.
    public func setting(named text: String) -> Result<ActuatorSetting, SettingProblem> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch control {
        case .onOff:
            if let state = state(named: text) { return .success(.state(state)) }
            let payloads = [payloads.on, payloads.off].filter { !["on", "off"].contains($0.lowercased()) }
            let also = payloads.isEmpty ? "" : " nor one of its payloads \(payloads.map { "'\($0)'" }.joined(separator: ", "))"
            return .failure(SettingProblem(message: "'\(text)' is neither\(also)", takes: control))
        case .number(let bounds):
            guard let number = Double(trimmed), number.isFinite else {
                return .failure(SettingProblem(message: "'\(text)' is not a number", takes: control))
            }
            if let problem = bounds.problem(with: number) { return .failure(SettingProblem(message: problem, takes: control)) }
            return .success(.number(number))
        case .choice(let options):
            if let option = options.first(where: { $0.lowercased() == trimmed.lowercased() }) { return .success(.option(option)) }
            return .failure(SettingProblem(
                message: "'\(text)' is not one of them\(Suggestion.didYouMean(trimmed, among: options))", takes: control))
        }
    }

    /// The payload that asks the device for `setting`: the on or off
    /// payload, or the value through ``commandTemplate`` (the value itself
    /// without one).
    public func commandPayload(for setting: ActuatorSetting) -> String {
        if case .state(let state) = setting { return state == .on ? payloads.on : payloads.off }
        let value = setting.description
        return commandTemplate?.render { $0 == ["value"] ? value : nil } ?? value
    }

    /// The setting a command payload asks for, read back through
    /// ``commandTemplate``: how a device (or the simulator) understands it.
    /// Nil when the payload is not one this actuator sends.
    public func setting(commandedBy payload: String) -> ActuatorSetting? {
        if isOnOff {
            if payload == payloads.on { return .state(.on) }
            if payload == payloads.off { return .state(.off) }
            return nil
        }
        var value = Substring(payload)
        if let template = commandTemplate {
            let parts = template.parts
            guard let slot = parts.firstIndex(of: .variable(["value"])) else { return nil }
            let prefix = parts[..<slot].map(\.literalText).joined()
            let suffix = parts[(slot + 1)...].map(\.literalText).joined()
            guard value.hasPrefix(prefix), value.dropFirst(prefix.count).hasSuffix(suffix) else { return nil }
            value = value.dropFirst(prefix.count).dropLast(suffix.count)
        }
        return try? setting(named: String(value)).get()
    }

    /// What a payload on ``stateTopic`` reports, read as the engine reads
    /// it: a state for an on/off actuator, the echo's value otherwise (an
    /// option as the file spells it). Nil when it reports nothing readable.
    public func setting(reportedBy payload: [UInt8]) -> ActuatorSetting? {
        if isOnOff { return state(reportedBy: payload).map { .state($0) } }
        guard let echo, case .success(let value) = SensorReading.value(of: payload, for: echo) else { return nil }
        switch value {
        case .number(let number): return .number(number)
        case .string(let text): return (try? setting(named: text).get()) ?? .option(text)
        case .boolean: return nil
        }
    }

    /// A number or choice actuator's report of its value on its state
    /// topic, read as a sensor's: rules test it with `sensor:`, and
    /// `devices` and `watch` show it. Nil for on/off actuators and for those
    /// without a state topic.
    public var echo: Sensor? {
        guard let stateTopic else { return nil }
        switch control {
        case .onOff: return nil
        case .number: return Sensor(name: name, topic: stateTopic, type: .number, path: statePath, unit: unit)
        case .choice: return Sensor(name: name, topic: stateTopic, type: .string, path: statePath, unit: unit)
        }
    }
}

/// Why an actuator takes no such setting, and what it does take.
public struct SettingProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// `'400' is out of range`.
    public var message: String
    public var takes: ActuatorControl

    /// `takes a number from 0 to 254; 400 is out of range`.
    public var description: String { "takes \(takes.spoken); \(message)" }
}

extension Template.Part {
    /// The text of a literal part; a variable's name in braces otherwise.
    var literalText: String {
        switch self {
        case .text(let text): text
        case .variable(let path): "{{ \(path.joined(separator: ".")) }}"
        }
    }
}
