import Foundation

/// What the engine knows about a device, for `homerules devices` and for
/// saving across restarts.
public struct DeviceStatus: Sendable, Hashable, Codable {
    public var id: String
    public var presence: PresenceState
    public var presenceSince: Date?
    /// The last live message on any of the device's topics.
    public var lastSeen: Date?
    /// By sensor name; sensors without a value yet are absent.
    public var sensors: [String: SensorStatus]
    /// By actuator name; actuators in an unknown state are absent.
    public var actuators: [String: ActuatorStatus]

    public init(
        id: String, presence: PresenceState = .unknown, presenceSince: Date? = nil, lastSeen: Date? = nil,
        sensors: [String: SensorStatus] = [:], actuators: [String: ActuatorStatus] = [:]
    ) {
        self.id = id
        self.presence = presence
        self.presenceSince = presenceSince
        self.lastSeen = lastSeen
        self.sensors = sensors
        self.actuators = actuators
    }
}

/// A sensor's last value.
public struct SensorStatus: Sendable, Hashable, Codable {
    public var value: SensorValue
    public var updatedAt: Date
    /// False while the device is offline: the value is stale.
    public var available: Bool

    public init(value: SensorValue, updatedAt: Date, available: Bool = true) {
        self.value = value
        self.updatedAt = updatedAt
        self.available = available
    }
}

/// An actuator's last state.
public struct ActuatorStatus: Sendable, Hashable, Codable {
    public var state: ActuatorState
    public var updatedAt: Date
    /// False while the device is offline: the state is stale.
    public var available: Bool

    public init(state: ActuatorState, updatedAt: Date, available: Bool = true) {
        self.state = state
        self.updatedAt = updatedAt
        self.available = available
    }
}

/// The state of a rule: public for display, whole for saving.
public struct RuleStatus: Sendable, Hashable, Codable {
    public var id: String
    /// Suspended by the loop guard until the rules are reloaded.
    public var suspended: Bool { runtime.suspended }
    public var cooldownUntil: Date? { runtime.cooldownUntil }
    /// Whether actions are paused at a `delay`.
    public var isRunning: Bool { runtime.running != nil }
    /// The rule as it was, so that a changed rule starts afresh.
    let rule: Rule
    let runtime: RuleRuntime
}

/// Everything the engine knows, as plain data: devices' presence, values and
/// states; rules' trigger phases, paused runs, cooldowns. Pending timers
/// follow from it. The daemon saves the device part (and may save the rule
/// part) and passes it to `Engine(home:restoring:now:)` after a restart.
public struct EngineSnapshot: Sendable, Hashable, Codable {
    public var devices: [DeviceStatus]
    public var rules: [RuleStatus]
    /// What only a running engine knows, kept across reloads but not
    /// across restarts.
    var liveness: [String: Liveness] = [:]

    struct Liveness: Sendable, Hashable, Codable {
        /// Which states a live message set (see `Engine.trustRetainedMessagesAgain`).
        var presence: Bool
        var sensors: Set<String>
        var actuators: Set<String>
        /// The last message of any kind, for `expire_after`.
        var lastMessage: Date?
        var offlineBySilence: Bool
    }

    public init(devices: [DeviceStatus] = [], rules: [RuleStatus] = []) {
        self.devices = devices
        self.rules = rules
    }

    func restore(device: Device, keepLiveness: Bool) -> DeviceRuntime {
        var runtime = DeviceRuntime(device: device)
        guard let status = devices.first(where: { $0.id == device.id }) else { return runtime }
        let live = keepLiveness ? liveness[device.id] : nil
        if device.presence != nil {
            runtime.presence = status.presence
            runtime.presenceSince = status.presenceSince
            runtime.presenceIsLive = live?.presence ?? false
            runtime.offlineBySilence = live?.offlineBySilence ?? false
        }
        runtime.lastMessage = live?.lastMessage
        runtime.lastSeen = status.lastSeen
        for (index, sensor) in device.sensors.enumerated() {
            guard let saved = status.sensors[sensor.name], saved.value.type == sensor.type else { continue }
            runtime.sensors[index] = ValueRuntime(
                value: saved.value, updatedAt: saved.updatedAt, available: saved.available && runtime.presence != .offline,
                isLive: live?.sensors.contains(sensor.name) ?? false)
        }
        for (index, actuator) in device.actuators.enumerated() {
            guard let saved = status.actuators[actuator.name] else { continue }
            runtime.actuators[index] = ValueRuntime(
                value: saved.state, updatedAt: saved.updatedAt, available: saved.available && runtime.presence != .offline,
                isLive: live?.actuators.contains(actuator.name) ?? false)
        }
        return runtime
    }

    /// The saved state of `rule` if it is the same rule, with the loop
    /// guard's suspension lifted.
    func restore(rule: Rule) -> RuleRuntime? {
        guard let status = rules.first(where: { $0.id == rule.id }), status.rule == rule else { return nil }
        var runtime = status.runtime
        runtime.suspended = false
        runtime.recentRuns = RunHistory()
        return runtime
    }
}

extension SensorValue {
    var type: SensorType {
        switch self {
        case .number: .number
        case .boolean: .boolean
        case .string: .string
        }
    }
}

/// A timer the engine waits for, as plain data.
public struct PendingTimer: Sendable, Hashable, Codable {
    /// What the timer is for; rules and devices by id, triggers by their
    /// index in the rule's `when`.
    public enum Purpose: Sendable, Hashable, Codable {
        /// A trigger's `for` ends.
        case hold(rule: String, trigger: Int)
        /// Actions paused by `delay` resume.
        case resume(rule: String)
        /// A time trigger fires.
        case schedule(rule: String, trigger: Int)
        /// A device's `expire_after` may run out.
        case expiry(device: String)
    }

    public var date: Date
    public var purpose: Purpose
}

extension Engine {
    /// What the engine knows about every device, in home order.
    public var deviceStatuses: [DeviceStatus] {
        devices.indices.map(status(ofDeviceAt:))
    }

    /// What the engine knows about one device.
    public func status(ofDevice id: String) -> DeviceStatus? {
        index.deviceByID[id].map(status(ofDeviceAt:))
    }

    private func status(ofDeviceAt index: Int) -> DeviceStatus {
        let device = home.devices[index], runtime = devices[index]
        var sensors: [String: SensorStatus] = [:]
        for (sensor, value) in zip(device.sensors, runtime.sensors) {
            if let current = value.value, let at = value.updatedAt {
                sensors[sensor.name] = SensorStatus(value: current, updatedAt: at, available: value.available)
            }
        }
        var actuators: [String: ActuatorStatus] = [:]
        for (actuator, value) in zip(device.actuators, runtime.actuators) {
            if let current = value.value, let at = value.updatedAt {
                actuators[actuator.name] = ActuatorStatus(state: current, updatedAt: at, available: value.available)
            }
        }
        return DeviceStatus(
            id: device.id, presence: runtime.presence, presenceSince: runtime.presenceSince,
            lastSeen: runtime.lastSeen, sensors: sensors, actuators: actuators)
    }

    /// The state of every rule, in home order.
    public var ruleStatuses: [RuleStatus] {
        zip(home.rules, rules).map { RuleStatus(id: $0.id, rule: $0, runtime: $1) }
    }

    /// Everything the engine knows, to save or to seed another engine.
    public var snapshot: EngineSnapshot {
        var snapshot = EngineSnapshot(devices: deviceStatuses, rules: ruleStatuses)
        for (device, runtime) in zip(home.devices, devices) {
            snapshot.liveness[device.id] = EngineSnapshot.Liveness(
                presence: runtime.presenceIsLive,
                sensors: Set(zip(device.sensors, runtime.sensors).filter { $1.isLive }.map { $0.0.name }),
                actuators: Set(zip(device.actuators, runtime.actuators).filter { $1.isLive }.map { $0.0.name }),
                lastMessage: runtime.lastMessage, offlineBySilence: runtime.offlineBySilence)
        }
        return snapshot
    }

    /// The timers the engine waits for, earliest first.
    public var pendingTimers: [PendingTimer] {
        timers.pending.map { key, date in
            let purpose: PendingTimer.Purpose = switch key {
            case .hold(let rule, let trigger, _): .hold(rule: home.rules[rule].id, trigger: trigger)
            case .resume(let rule): .resume(rule: home.rules[rule].id)
            case .schedule(let rule, let trigger): .schedule(rule: home.rules[rule].id, trigger: trigger)
            case .expiry(let device): .expiry(device: home.devices[device].id)
            }
            return PendingTimer(date: date, purpose: purpose)
        }
    }
}
