import Rules

/// Where a simulated number sensor's values wander: around `mean`, never
/// further from it than `spread`; with a ramp, around a mean that moves.
public struct SensorBehaviour: Sendable, Hashable {
    public var mean: Double
    /// Zero holds the value at `mean`, which tests use for exact readings.
    public var spread: Double
    /// A story to play instead of a fixed mean: the room warms up, the
    /// battery drains.
    public var ramp: SensorRamp?

    public init(mean: Double, spread: Double, ramp: SensorRamp? = nil) {
        self.mean = mean
        self.spread = max(0, spread)
        self.ramp = ramp
    }

    /// The mean at reading `step` (0 for the first).
    func mean(atStep step: Int) -> Double {
        ramp?.value(atStep: step) ?? mean
    }

    /// Plausible values for a sensor, judged by its name and unit: a room's
    /// temperature, humidity, a battery, a plug's power.
    public static func defaults(for sensor: Sensor) -> SensorBehaviour {
        let name = sensor.name.lowercased()
        let unit = sensor.unit?.lowercased() ?? ""
        if unit.hasSuffix("f") && unit.contains("°") { return SensorBehaviour(mean: 72, spread: 4) }
        if name.contains("temp") || unit.hasSuffix("c") { return SensorBehaviour(mean: 22, spread: 2) }
        if name.contains("humid") { return SensorBehaviour(mean: 50, spread: 10) }
        if name.contains("batt") { return SensorBehaviour(mean: 90, spread: 5) }
        if name.contains("power") || unit == "w" { return SensorBehaviour(mean: 60, spread: 30) }
        if unit == "%" { return SensorBehaviour(mean: 50, spread: 10) }
        return SensorBehaviour(mean: 20, spread: 5)
    }
}

/// A straight line from one value to another, over a number of readings,
/// after which the value stays at the end: a sensor that crosses a threshold
/// at a known moment.
public struct SensorRamp: Sendable, Hashable {
    public var from: Double
    public var to: Double
    /// The readings it takes to get from `from` to `to` (at least 1).
    public var steps: Int

    public init(from: Double, to: Double, steps: Int) {
        self.from = from
        self.to = to
        self.steps = max(1, steps)
    }

    /// The value of reading `step`: `from` at 0, `to` from `steps` on, to two decimals.
    public func value(atStep step: Int) -> Double {
        let progress = Double(min(max(step, 0), steps)) / Double(steps)
        return ((from + (to - from) * progress) * 100).rounded() / 100
    }
}

/// The values of one simulated sensor, one step at a time: numbers take a
/// random walk pulled back towards the mean (the ramp's line, if it has one),
/// booleans flip now and then, strings stay as they are.
struct SensorWalk: Sendable {
    let sensor: Sensor
    let behaviour: SensorBehaviour
    private(set) var value: SensorValue
    /// How many readings were taken.
    private var steps = 0

    /// Chance that a boolean flips at a step: rare, as a door or a motion sensor.
    static let flipProbability = 0.05
    /// What a string sensor reports.
    static let stringValue = "ok"

    init(sensor: Sensor, behaviour: SensorBehaviour) {
        self.sensor = sensor
        self.behaviour = behaviour
        switch sensor.type {
        case .number: value = .number(behaviour.mean(atStep: 0))
        case .boolean: value = .boolean(false)
        case .string: value = .string(Self.stringValue)
        }
    }

    /// Moves to the next value and returns it.
    mutating func step(using generator: inout some RandomNumberGenerator) -> SensorValue {
        defer { steps += 1 }
        switch value {
        case .number(let current):
            value = .number(nextNumber(after: current, around: behaviour.mean(atStep: steps), using: &generator))
        case .boolean(let flag):
            if Double.random(in: 0..<1, using: &generator) < Self.flipProbability { value = .boolean(!flag) }
        case .string:
            break
        }
        return value
    }

    /// Replaces the value, as a test does to cross a threshold.
    mutating func set(_ newValue: SensorValue) {
        value = newValue
    }

    private func nextNumber(
        after current: Double, around mean: Double, using generator: inout some RandomNumberGenerator
    ) -> Double {
        let spread = behaviour.spread
        guard spread > 0 else { return mean }
        let pull = 0.25 * (mean - current)
        let jitter = Double.random(in: -1...1, using: &generator) * spread * 0.3
        var next = min(mean + spread, max(mean - spread, current + pull + jitter))
        if sensor.unit == "%" { next = min(100, max(0, next)) }
        // Real sensors report a few decimals, not seventeen.
        let scale = spread < 1 ? 100.0 : 10.0
        return (next * scale).rounded() / scale
    }
}
