import Rules

/// A device file that `homerules discover` proposes: what it would define,
/// in the terms of the device YAML, with the notes it writes as comments.
public struct DeviceProposal: Sendable, Hashable {
    /// The device id, also the file's name: `devices/<id>.yaml`.
    public var id: String
    public var name: String
    public var presence: ProposedPresence?
    public var sensors: [ProposedSensor] = []
    public var actuators: [ProposedActuator] = []
    /// The announcements it comes from, for the file's header.
    public var sources: [String] = []
    /// What the announcements hold that the file cannot say, as comments.
    public var notes: [String] = []

    public init(id: String, name: String, presence: ProposedPresence? = nil) {
        self.id = id
        self.name = name
        self.presence = presence
    }

    /// The file the proposal is written to, relative to the devices directory.
    public var fileName: String { "\(id).yaml" }

    /// The names of its sensors and actuators, which must differ.
    var memberNames: Set<String> { Set(sensors.map(\.name) + actuators.map(\.name)) }
}

/// How a proposed device says it is online.
public enum ProposedPresence: Sendable, Hashable {
    /// `{ convention: zigbee2mqtt, node: <friendly name> }`.
    case convention(PresenceConvention, node: String)
    /// A status topic with its payloads, and where the state sits in JSON.
    case topic(String, online: String, offline: String, path: String?)
}

/// A sensor of a proposed device.
public struct ProposedSensor: Sendable, Hashable {
    public var name: String
    public var topic: String
    public var type: SensorType
    /// A JSON path, as the `path` key takes it.
    public var path: String?
    public var unit: String?
    /// For a boolean sensor whose payloads are not the usual words.
    public var payloads: BinaryPayloads?
    /// Comments written above the sensor.
    public var notes: [String] = []

    public init(name: String, topic: String, type: SensorType, path: String? = nil, unit: String? = nil, payloads: BinaryPayloads? = nil) {
        self.name = name
        self.topic = topic
        self.type = type
        self.path = path
        self.unit = unit
        self.payloads = payloads
    }
}

/// An actuator of a proposed device.
public struct ProposedActuator: Sendable, Hashable {
    public var name: String
    /// On and off (with its payloads), a number within bounds, or a choice.
    public var control: ActuatorControl
    public var commandTopic: String
    /// With `{{ value }}` where the value goes; nil sends the value itself.
    public var commandTemplate: String?
    public var payloads = BinaryPayloads(on: "ON", off: "OFF")
    public var stateTopic: String?
    public var statePath: String?
    /// For number actuators.
    public var unit: String?
    /// Comments written above the actuator.
    public var notes: [String] = []

    public init(name: String, control: ActuatorControl, commandTopic: String) {
        self.name = name
        self.control = control
        self.commandTopic = commandTopic
    }
}
