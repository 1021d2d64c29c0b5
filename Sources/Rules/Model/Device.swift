/// A device of the home: a board, plug or sensor that talks MQTT.
public struct Device: Sendable, Hashable, Codable {
    /// Unique across the home; rules refer to the device by it.
    public var id: String
    /// A human name; the id when the YAML gives none.
    public var name: String
    public var room: String?
    /// How the device says it is online; nil when it does not.
    public var presence: Presence?
    /// In the order of the YAML file.
    public var sensors: [Sensor]
    /// In the order of the YAML file.
    public var actuators: [Actuator]
    /// Where the device is defined.
    public var location: SourceLocation

    public init(
        id: String, name: String? = nil, room: String? = nil, presence: Presence? = nil,
        sensors: [Sensor] = [], actuators: [Actuator] = [], location: SourceLocation
    ) {
        self.id = id
        self.name = name ?? id
        self.room = room
        self.presence = presence
        self.sensors = sensors
        self.actuators = actuators
        self.location = location
    }

    public func sensor(named name: String) -> Sensor? { sensors.first { $0.name == name } }
    public func actuator(named name: String) -> Actuator? { actuators.first { $0.name == name } }

    /// The topics the device publishes on that the daemon must hear: its
    /// presence topic, its sensors and its actuators' state topics (a
    /// number or choice actuator's state topic is its echo's, a sensor's).
    public var topics: [String] {
        [presence?.topic].compactMap { $0 } + sensors.map(\.topic) + actuators.filter(\.isOnOff).compactMap(\.stateTopic)
    }

    /// Whether `sensor` is a number or choice actuator's report of its
    /// value (``Actuator/echo``) rather than a sensor of its own.
    public func isEcho(_ sensor: Sensor) -> Bool {
        actuators.contains { $0.name == sensor.name }
    }
}

/// A value a device reports on a topic.
public struct Sensor: Sendable, Hashable, Codable {
    public var name: String
    public var topic: String
    public var type: SensorType
    /// Where the value sits in a JSON payload; nil when the payload is the value.
    public var path: JSONPath?
    public var unit: String?
    /// For boolean sensors whose payloads are not the usual words: the
    /// payloads that mean true and false.
    public var booleanPayloads: BinaryPayloads?

    public init(
        name: String, topic: String, type: SensorType, path: JSONPath? = nil, unit: String? = nil,
        booleanPayloads: BinaryPayloads? = nil
    ) {
        self.name = name
        self.topic = topic
        self.type = type
        self.path = path
        self.unit = unit
        self.booleanPayloads = booleanPayloads
    }
}

/// The kind of value a sensor reports.
public enum SensorType: String, Sendable, Hashable, Codable, CaseIterable {
    case number, boolean, string
}

/// The payloads of a two-state thing: an actuator's on and off, a boolean
/// sensor's true and false.
public struct BinaryPayloads: Sendable, Hashable, Codable {
    public var on: String
    public var off: String

    public init(on: String, off: String) {
        self.on = on
        self.off = off
    }
}

/// Something a device can switch or set: an LED, a relay, a plug, a
/// dimmer's brightness, a thermostat's mode.
public struct Actuator: Sendable, Hashable, Codable {
    public var name: String
    /// On and off (the default), a number, or one of a list.
    public var control: ActuatorControl
    public var commandTopic: String
    /// For a number or choice: the command payload, with `{{ value }}` for
    /// the value (`{"brightness": {{ value }}}`); nil sends the value alone.
    public var commandTemplate: Template?
    /// For a number: its unit, as a sensor's.
    public var unit: String?
    /// Where the device reports its state; nil means the engine assumes a
    /// command took effect (Home Assistant's optimistic mode).
    public var stateTopic: String?
    /// Where the state sits in a JSON state payload, such as `state` for Zigbee2MQTT.
    public var statePath: JSONPath?
    public var payloads: BinaryPayloads
    /// The payload that makes the device toggle itself, when it has one.
    public var togglePayload: String?
    public var qos: Int
    public var retain: Bool

    public init(
        name: String, control: ActuatorControl = .onOff, commandTopic: String, commandTemplate: Template? = nil,
        unit: String? = nil, stateTopic: String? = nil, statePath: JSONPath? = nil,
        payloads: BinaryPayloads = BinaryPayloads(on: "ON", off: "OFF"), togglePayload: String? = nil,
        qos: Int = 0, retain: Bool = false
    ) {
        self.name = name
        self.control = control
        self.commandTopic = commandTopic
        self.commandTemplate = commandTemplate
        self.unit = unit
        self.stateTopic = stateTopic
        self.statePath = statePath
        self.payloads = payloads
        self.togglePayload = togglePayload
        self.qos = qos
        self.retain = retain
    }
}

/// What an actuator is switched to.
public enum ActuatorState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case on, off

    public var description: String { rawValue }

    /// The opposite state.
    public var toggled: ActuatorState { self == .on ? .off : .on }
}

/// A sensor's reading.
public enum SensorValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case number(Double)
    case boolean(Bool)
    case string(String)

    /// `27.5`, `true`, `open`: as the value reads in traces and templates.
    public var description: String {
        switch self {
        case .number(let value): Formatting.number(value)
        case .boolean(let value): value ? "true" : "false"
        case .string(let value): value
        }
    }

    /// The number, when the value is one.
    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}
