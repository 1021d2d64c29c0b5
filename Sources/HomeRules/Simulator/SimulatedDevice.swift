import Foundation
import Logging
import MQTT
import MQTTClient
import NIOCore
import Rules

/// A device built from its definition that behaves like the ESP8266 of the
/// project's origin: its own MQTT connection (client id = device id) with a
/// retained will that announces it offline, a retained birth, sensor values
/// on a random walk, and actuators that obey commands and echo their state,
/// retained, as Tasmota does.
///
/// ```swift
/// let node = try SimulatedDevice(device: device, broker: MQTTClientConfiguration(host: "127.0.0.1", port: port))
/// try await node.connect()                       // online, retained
/// try await node.publish(.number(29), to: "temperature")
/// await node.goOffline()                         // offline, retained
/// ```
///
/// Presence follows the device's definition or convention: the will and the
/// birth go to its presence topic, spelt as the firmware spells them
/// (``Presence/announcement(of:)``), inside a JSON object when the presence
/// reads a path. Sensors that share a topic are published together, as one
/// JSON object with each value at its path.
public actor SimulatedDevice {
    /// Something the device did, for a caller that shows it.
    public enum Activity: Sendable, Hashable {
        /// Connected and announced itself online (again, after a reconnect).
        case online(reconnected: Bool)
        /// The connection dropped; the client is reconnecting.
        case connectionLost(String)
        /// Published readings on a topic.
        case published(topic: String, payload: String)
        /// Obeyed a command: the actuator is now at `setting`.
        case obeyed(actuator: String, command: String, setting: ActuatorSetting)
        /// A message on a command topic that the actuator does not understand.
        case ignoredCommand(actuator: String, payload: String)
        /// Announced itself offline and disconnected.
        case offline
    }

    public let device: Device
    /// The MQTT client the device speaks through.
    public nonisolated let client: MQTTClient
    private var walks: [SensorWalk]
    /// The actuators' settings, by name: on/off actuators start off, a
    /// number at its minimum, a choice at its first option.
    public private(set) var actuatorSettings: [String: ActuatorSetting]
    private let onActivity: @Sendable (Activity) -> Void
    private var generator = SystemRandomNumberGenerator()
    private var tasks: [Task<Void, Never>] = []

    /// - Parameters:
    ///   - broker: where to connect, with credentials, keepalive and
    ///     reconnect policy; the client id and the will are set from `device`.
    ///   - behaviours: by sensor name; sensors without one use
    ///     ``SensorBehaviour/defaults(for:)``.
    ///   - onActivity: called for everything the device does, on the actor.
    public init(
        device: Device, broker: MQTTClientConfiguration, behaviours: [String: SensorBehaviour] = [:],
        eventLoopGroup: (any EventLoopGroup)? = nil, logger: Logger = Logger(label: "homerules.simulator"),
        onActivity: @escaping @Sendable (Activity) -> Void = { _ in }
    ) throws {
        self.device = device
        var configuration = broker
        configuration.clientID = device.id
        configuration.cleanSession = true
        if let topic = device.presence?.topic, let payload = Self.presencePayload(device.presence, .offline) {
            // As the sketch's setWill(topic, "offline", true, 1).
            configuration.will = Will(topic: topic, payload: ByteBuffer(string: payload), qos: .atLeastOnce, retain: true)
        }
        if let eventLoopGroup {
            client = try MQTTClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        } else {
            client = try MQTTClient(configuration: configuration, logger: logger)
        }
        // A number or choice actuator's echo moves when it is commanded, not by itself.
        walks = device.sensors.filter { !device.isEcho($0) }.map {
            SensorWalk(sensor: $0, behaviour: behaviours[$0.name] ?? .defaults(for: $0))
        }
        actuatorSettings = Dictionary(device.actuators.map { ($0.name, Self.initialSetting(of: $0)) }) { first, _ in first }
        self.onActivity = onActivity
    }

    // MARK: Connection

    /// Connects, subscribes to the command topics, and announces the device
    /// online with its actuators' states, all retained. Throws when the
    /// broker cannot be reached.
    public func connect() async throws {
        let events = client.connectionEvents()
        try await client.connect()
        let commandTopics = Array(Set(device.actuators.map(\.commandTopic))).sorted()
        if !commandTopics.isEmpty {
            let (commands, continuation) = AsyncStream.makeStream(of: MQTTMessage.self)
            // The handler runs on the client's event loop; the stream keeps the commands in order.
            _ = try await client.subscribe(commandTopics.map { TopicSubscription(filter: $0, qos: .atLeastOnce) }) {
                continuation.yield($0)
            }
            tasks.append(Task { [weak self] in
                for await command in commands { await self?.obey(command) }
            })
        }
        tasks.append(Task { [weak self] in
            var lost = false
            for await event in events {
                switch event {
                case .disconnected(let error?):
                    lost = true
                    await self?.report(.connectionLost(error.description))
                case .connected where lost:
                    lost = false
                    try? await self?.announce(reconnected: true)
                default:
                    break
                }
            }
        })
        try await announce(reconnected: false)
    }

    /// Announces the device offline (retained) and disconnects cleanly, so
    /// that presence is right without the will. Safe to call twice.
    public func goOffline() async {
        for task in tasks { task.cancel() }
        tasks.removeAll()
        if let topic = device.presence?.topic, let payload = Self.presencePayload(device.presence, .offline) {
            // QoS 0: without a connection it fails at once instead of waiting for one.
            try? await client.publish(topic: topic, payload: payload, qos: .atMostOnce, retain: true)
        }
        await client.disconnect()
        report(.offline)
    }

    private func announce(reconnected: Bool) async throws {
        if let topic = device.presence?.topic, let payload = Self.presencePayload(device.presence, .online) {
            try await client.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: true)
        }
        for topic in Set(device.actuators.compactMap(\.stateTopic)).sorted() {
            try await publish(topic: topic)
        }
        report(.online(reconnected: reconnected))
    }

    // MARK: Sensors

    /// Publishes a reading every `interval` until the task is cancelled.
    /// Readings that cannot be sent while the connection is down are skipped.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            try? await publishReadings()
            try? await Task.sleep(for: interval)
        }
    }

    /// Moves every sensor one step and publishes each sensor topic once.
    public func publishReadings() async throws {
        for index in walks.indices {
            _ = walks[index].step(using: &generator)
        }
        for topic in Self.unique(walks.map(\.sensor.topic)) {
            try await publish(topic: topic)
        }
    }

    /// Sets a sensor to `value` and publishes its topic, as a test does to
    /// cross a threshold. The walk continues from there.
    public func publish(_ value: SensorValue, to sensor: String) async throws {
        guard let index = walks.firstIndex(where: { $0.sensor.name == sensor }) else {
            throw SimulationError.unknownSensor(device: device.id, sensor: sensor)
        }
        walks[index].set(value)
        try await publish(topic: walks[index].sensor.topic)
    }

    /// The sensors' current values, by name.
    public var readings: [String: SensorValue] {
        Dictionary(walks.map { ($0.sensor.name, $0.value) }) { first, _ in first }
    }

    // MARK: Actuators

    private func obey(_ message: MQTTMessage) async {
        let payload = Array(message.payload.readableBytesView)
        for actuator in device.actuators where actuator.commandTopic == message.topic {
            guard let command = Self.command(payload, for: actuator) else {
                report(.ignoredCommand(actuator: actuator.name, payload: message.payloadString))
                continue
            }
            let setting: ActuatorSetting
            switch command {
            case .set(let target): setting = target
            case .toggle: setting = .state((actuatorStates[actuator.name] ?? .off).toggled)
            }
            actuatorSettings[actuator.name] = setting
            report(.obeyed(actuator: actuator.name, command: message.payloadString, setting: setting))
            if let stateTopic = actuator.stateTopic {
                try? await publish(topic: stateTopic)
            }
        }
    }

    /// What a command on an actuator's command topic asks for.
    enum Command: Sendable, Hashable {
        case set(ActuatorSetting)
        case toggle
    }

    /// The on/off actuators' states, by name.
    public var actuatorStates: [String: ActuatorState] {
        actuatorSettings.compactMapValues { if case .state(let state) = $0 { state } else { nil } }
    }

    private static func initialSetting(of actuator: Actuator) -> ActuatorSetting {
        switch actuator.control {
        case .onOff: .state(.off)
        case .number(let bounds): .number(bounds.min)
        case .choice(let options): .option(options[0])
        }
    }

    /// What `payload` asks of `actuator`, or nil when it means nothing to it.
    static func command(_ payload: [UInt8], for actuator: Actuator) -> Command? {
        let text = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard actuator.isOnOff else { return actuator.setting(commandedBy: text).map(Command.set) }
        if let toggle = actuator.togglePayload, text.lowercased() == toggle.lowercased() { return .toggle }
        // Commands are plain payloads, or JSON such as Zigbee2MQTT's {"state":"ON"} at the state path.
        var plain = actuator
        plain.statePath = nil
        return (plain.state(reportedBy: payload) ?? actuator.state(reportedBy: payload)).map { .set(.state($0)) }
    }

    // MARK: Payloads

    /// Publishes everything the device reports on `topic`; retained when an
    /// actuator's state is among it.
    private func publish(topic: String) async throws {
        guard let payload = payload(for: topic) else { return }
        let retain = device.actuators.contains { $0.stateTopic == topic }
        try await client.publish(topic: topic, payload: payload, qos: retain ? .atLeastOnce : .atMostOnce, retain: retain)
        if !retain { report(.published(topic: topic, payload: payload)) }
    }

    /// The payload of `topic`: a JSON object when any value on it sits at a
    /// path, otherwise the text of its first value.
    func payload(for topic: String) -> String? {
        var document = JSONPayload()
        var isJSON = false
        var plain: String?
        for walk in walks where walk.sensor.topic == topic {
            if let path = walk.sensor.path {
                document.set(Self.jsonLeaf(walk.value, of: walk.sensor), at: path)
                isJSON = true
            } else {
                plain = plain ?? Self.text(walk.value, of: walk.sensor)
            }
        }
        for actuator in device.actuators where actuator.stateTopic == topic {
            let leaf = Self.stateLeaf(actuatorSettings[actuator.name] ?? Self.initialSetting(of: actuator), of: actuator)
            if let path = actuator.statePath {
                document.set(leaf, at: path)
                isJSON = true
            } else {
                plain = plain ?? leaf.text
            }
        }
        return isJSON ? document.text : plain
    }

    static func presencePayload(_ presence: Presence?, _ state: PresenceState) -> String? {
        guard let text = presence?.announcement(of: state) else { return nil }
        guard let path = presence?.path else { return text }
        return JSONPayload(.string(text), at: path).text
    }

    private static func text(_ value: SensorValue, of sensor: Sensor) -> String {
        if case .boolean(let flag) = value, let payloads = sensor.booleanPayloads {
            return flag ? payloads.on : payloads.off
        }
        return value.description
    }

    private static func jsonLeaf(_ value: SensorValue, of sensor: Sensor) -> JSONPayload.Leaf {
        if case .boolean = value, sensor.booleanPayloads != nil { return .string(text(value, of: sensor)) }
        return JSONPayload.Leaf(value)
    }

    /// How the device reports `setting` on its state topic: an on or off
    /// payload (read at the state path when it is JSON, as the engine reads
    /// it), or the value itself.
    private static func stateLeaf(_ setting: ActuatorSetting, of actuator: Actuator) -> JSONPayload.Leaf {
        switch setting {
        case .state(let state): return .string(actuator.reportedText(for: state))
        case .number(let number): return .number(number)
        case .option(let option): return .string(option)
        }
    }

    private static func unique(_ topics: [String]) -> [String] {
        var seen: Set<String> = []
        return topics.filter { seen.insert($0).inserted }
    }

    private func report(_ activity: Activity) {
        onActivity(activity)
    }
}

/// Why a simulation request failed.
public enum SimulationError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownSensor(device: String, sensor: String)

    public var description: String {
        switch self {
        case .unknownSensor(let device, let sensor): "device '\(device)' has no sensor '\(sensor)'"
        }
    }
}
