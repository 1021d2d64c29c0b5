import MQTTTopics

/// What makes a rule consider firing (`when`). A rule with several triggers
/// fires when any of them does.
public struct Trigger: Sendable, Hashable, Codable {
    /// What the trigger watches, and for what.
    public enum Kind: Sendable, Hashable, Codable {
        /// A number crossing `above` and/or `below`, with a hysteresis band.
        case threshold(QualifiedName, Threshold)
        /// A sensor changing, to or from given values.
        case sensorChange(QualifiedName, StateChange<SensorValue>)
        /// An actuator changing, to or from given states.
        case actuatorChange(QualifiedName, StateChange<ActuatorState>)
        /// A device going online, offline, or to another presence state.
        case presence(device: String, goes: PresenceState)
        /// A message on a topic (wildcards allowed), optionally with a given payload.
        case mqtt(TopicFilter, payload: String?)
        /// A time of day or a cron schedule.
        case schedule(Schedule)
    }

    public var kind: Kind
    /// `for`: how long the trigger's condition must hold before it fires.
    public var hold: Duration?
    /// `fire_on_first_value`: count a first value (after unknown or offline,
    /// or a retained message for `mqtt`) as a change. Off by default, so that
    /// a device reconnecting does not fire rules.
    public var firesOnFirstValue: Bool

    public init(_ kind: Kind, hold: Duration? = nil, firesOnFirstValue: Bool = false) {
        self.kind = kind
        self.hold = hold
        self.firesOnFirstValue = firesOnFirstValue
    }

    /// Whether the trigger has a state that holds for a while (so that
    /// `otherwise` can run when it stops holding), as opposed to an event.
    public var isLevel: Bool {
        switch kind {
        case .threshold, .presence: true
        case .sensorChange(_, let change): change.to != nil || change.from != nil
        case .actuatorChange(_, let change): change.to != nil || change.from != nil
        case .mqtt(_, let payload): payload != nil && hold != nil
        case .schedule: false
        }
    }

    /// The device the trigger watches, if any.
    public var device: String? {
        switch kind {
        case .threshold(let name, _), .sensorChange(let name, _), .actuatorChange(let name, _): name.device
        case .presence(let device, _): device
        case .mqtt, .schedule: nil
        }
    }
}

/// `above` and/or `below` a number. With both, the value must lie between.
///
/// The trigger holds once the value is past the threshold, and stops holding
/// only when it comes back past the threshold by more than `hysteresis`:
/// `above: 28, hysteresis: 1` holds from above 28 until below 27.
public struct Threshold: Sendable, Hashable, Codable {
    public var above: Double?
    public var below: Double?
    public var hysteresis: Double

    public init(above: Double? = nil, below: Double? = nil, hysteresis: Double = 0) {
        self.above = above
        self.below = below
        self.hysteresis = hysteresis
    }

    /// Whether `value` is strictly inside the bounds (the trigger starts holding).
    func enters(_ value: Double) -> Bool {
        (above.map { value > $0 } ?? true) && (below.map { value < $0 } ?? true)
    }

    /// Whether `value` is out by more than the hysteresis (the trigger stops holding).
    func leaves(_ value: Double) -> Bool {
        (above.map { value < $0 - hysteresis } ?? false) || (below.map { value > $0 + hysteresis } ?? false)
    }
}

/// `from` and/or `to`; neither means any change.
public struct StateChange<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    public var from: Value?
    public var to: Value?

    public init(from: Value? = nil, to: Value? = nil) {
        self.from = from
        self.to = to
    }

    /// Whether the trigger holds while the value is `value`.
    func holds(_ value: Value) -> Bool {
        (to.map { value == $0 } ?? true) && (from.map { value != $0 } ?? true)
    }

    /// Whether a change from `previous` may fire (`from` must match it).
    func allowsStart(from previous: Value?) -> Bool {
        from.map { previous == $0 } ?? true
    }
}
