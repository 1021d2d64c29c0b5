import Foundation

/// What the engine knows about a device, for `homerules devices` and for
/// saving across restarts.
public struct DeviceStatus: Sendable, Hashable, Codable {
    public var id: String
    public var presence: PresenceState
    public var presenceSince: Date?
    /// The last live message on any of the device's topics.
    public var lastSeen: Date?
    /// The presence was restored after a restart and the device has not
    /// been heard from since: it goes offline when its grace period ends.
    public var provisional: Bool
    /// By sensor name; sensors without a value yet are absent.
    public var sensors: [String: SensorStatus]
    /// By actuator name; actuators in an unknown state are absent.
    public var actuators: [String: ActuatorStatus]

    public init(
        id: String, presence: PresenceState = .unknown, presenceSince: Date? = nil, lastSeen: Date? = nil,
        provisional: Bool = false, sensors: [String: SensorStatus] = [:], actuators: [String: ActuatorStatus] = [:]
    ) {
        self.id = id
        self.presence = presence
        self.presenceSince = presenceSince
        self.lastSeen = lastSeen
        self.provisional = provisional
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
    /// Restored after a restart, not read since: `updatedAt` tells its age.
    public var restored: Bool

    public init(value: SensorValue, updatedAt: Date, available: Bool = true, restored: Bool = false) {
        self.value = value
        self.updatedAt = updatedAt
        self.available = available
        self.restored = restored
    }
}

/// An actuator's last state.
public struct ActuatorStatus: Sendable, Hashable, Codable {
    public var state: ActuatorState
    public var updatedAt: Date
    /// False while the device is offline: the state is stale.
    public var available: Bool
    /// Restored after a restart, not reported since: `updatedAt` tells its age.
    public var restored: Bool

    public init(state: ActuatorState, updatedAt: Date, available: Bool = true, restored: Bool = false) {
        self.state = state
        self.updatedAt = updatedAt
        self.available = available
        self.restored = restored
    }
}

/// The state of a rule: public for display, whole for saving.
public struct RuleStatus: Sendable, Hashable, Codable {
    public var id: String
    /// Suspended by the loop guard until the rules are reloaded.
    public var suspended: Bool { runtime.suspended }
    /// The end of the cooldown, on the wall clock as it read when the status was taken.
    public var cooldownUntil: Date?
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
///
/// The rules' monotonic instants mean something only beside the clocks'
/// reading when the snapshot was taken (`takenAt`): a restart moves them to
/// the new run's monotonic clock through the wall clock, so that a `for`
/// or a `delay` keeps the wall-clock time it had left.
public struct EngineSnapshot: Sendable, Hashable, Codable {
    public var devices: [DeviceStatus]
    public var rules: [RuleStatus]
    /// The key under which the daemon saves it in the event log's state
    /// table, where `homerules devices` reads which states are provisional.
    public static let storageKey = "engine"

    /// Both clocks when the snapshot was taken.
    var takenAtWall: Date?
    var takenAtMonotonic: MonotonicInstant?
    /// What only a running engine knows, kept across reloads but not
    /// across restarts.
    var liveness: [String: Liveness] = [:]

    struct Liveness: Sendable, Hashable, Codable {
        /// Which states a live message set (see `Engine.trustRetainedMessagesAgain`).
        var presence: Bool
        var sensors: Set<String>
        var actuators: Set<String>
        /// The last message of any kind, for `expire_after`.
        var lastMessage: MonotonicInstant?
        var offlineBySilence: Bool
        var provisional: Bool
    }

    public init(devices: [DeviceStatus] = [], rules: [RuleStatus] = []) {
        self.devices = devices
        self.rules = rules
    }

    private enum CodingKeys: String, CodingKey {
        case devices, rules, liveness, takenAtWall, takenAtMonotonic
    }

    /// Rules saved in a shape this build does not read start afresh; the
    /// devices' state is kept.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        devices = try container.decode([DeviceStatus].self, forKey: .devices)
        takenAtWall = try container.decodeIfPresent(Date.self, forKey: .takenAtWall)
        takenAtMonotonic = try container.decodeIfPresent(MonotonicInstant.self, forKey: .takenAtMonotonic)
        // Saved before the clocks were recorded, rules' instants were dates.
        rules = takenAtMonotonic == nil ? [] : (try? container.decode([RuleStatus].self, forKey: .rules)) ?? []
        liveness = (try? container.decodeIfPresent([String: Liveness].self, forKey: .liveness)) ?? [:]
    }

    /// Nanoseconds to add to a saved monotonic instant to put it on the
    /// clock of `now`: the wall-clock time that passed since the snapshot
    /// counts as time that passed.
    func monotonicShift(to now: EngineTime) -> Int64 {
        guard let takenAtWall, let takenAtMonotonic else { return 0 }
        let passed = MonotonicInstant.nanoseconds(now.wall.timeIntervalSince(takenAtWall))
        return now.monotonic.nanoseconds &- passed &- takenAtMonotonic.nanoseconds
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
            // After a restart, presence that says the device is connected
            // holds only until its grace period ends unheard.
            runtime.provisional = live?.provisional ?? [.online, .alert, .initializing].contains(status.presence)
        }
        runtime.lastMessage = live?.lastMessage
        runtime.lastSeen = status.lastSeen
        for (index, sensor) in device.sensors.enumerated() {
            guard let saved = status.sensors[sensor.name], saved.value.type == sensor.type else { continue }
            runtime.sensors[index] = ValueRuntime(
                value: saved.value, updatedAt: saved.updatedAt, available: saved.available && runtime.presence != .offline,
                isLive: live?.sensors.contains(sensor.name) ?? false, restored: live == nil || saved.restored)
        }
        for (index, actuator) in device.actuators.enumerated() {
            guard let saved = status.actuators[actuator.name] else { continue }
            runtime.actuators[index] = ValueRuntime(
                value: saved.state, updatedAt: saved.updatedAt, available: saved.available && runtime.presence != .offline,
                isLive: live?.actuators.contains(actuator.name) ?? false, restored: live == nil || saved.restored)
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

// Snapshots saved by earlier builds lack the flags added since: they read as false.

extension DeviceStatus {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            presence: try container.decode(PresenceState.self, forKey: .presence),
            presenceSince: try container.decodeIfPresent(Date.self, forKey: .presenceSince),
            lastSeen: try container.decodeIfPresent(Date.self, forKey: .lastSeen),
            provisional: try container.decodeIfPresent(Bool.self, forKey: .provisional) ?? false,
            sensors: try container.decode([String: SensorStatus].self, forKey: .sensors),
            actuators: try container.decode([String: ActuatorStatus].self, forKey: .actuators))
    }
}

extension SensorStatus {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            value: try container.decode(SensorValue.self, forKey: .value),
            updatedAt: try container.decode(Date.self, forKey: .updatedAt),
            available: try container.decode(Bool.self, forKey: .available),
            restored: try container.decodeIfPresent(Bool.self, forKey: .restored) ?? false)
    }
}

extension ActuatorStatus {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            state: try container.decode(ActuatorState.self, forKey: .state),
            updatedAt: try container.decode(Date.self, forKey: .updatedAt),
            available: try container.decode(Bool.self, forKey: .available),
            restored: try container.decodeIfPresent(Bool.self, forKey: .restored) ?? false)
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
        /// The grace period of a device whose presence was restored ends.
        case grace(device: String)
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
                sensors[sensor.name] = SensorStatus(value: current, updatedAt: at, available: value.available, restored: value.restored)
            }
        }
        var actuators: [String: ActuatorStatus] = [:]
        for (actuator, value) in zip(device.actuators, runtime.actuators) {
            if let current = value.value, let at = value.updatedAt {
                actuators[actuator.name] = ActuatorStatus(
                    state: current, updatedAt: at, available: value.available, restored: value.restored)
            }
        }
        return DeviceStatus(
            id: device.id, presence: runtime.presence, presenceSince: runtime.presenceSince,
            lastSeen: runtime.lastSeen, provisional: runtime.provisional, sensors: sensors, actuators: actuators)
    }

    /// The state of every rule, in home order.
    public var ruleStatuses: [RuleStatus] { ruleStatuses(at: clock) }

    func ruleStatuses(at now: EngineTime) -> [RuleStatus] {
        zip(home.rules, rules).map {
            RuleStatus(id: $0.id, cooldownUntil: $1.cooldownUntil.map(now.wall(at:)), rule: $0, runtime: $1)
        }
    }

    /// Everything the engine knows, to save or to seed another engine, with
    /// the clocks as they read at the latest call.
    public var snapshot: EngineSnapshot { snapshot(at: clock) }

    /// Everything the engine knows, with the clocks as they read `now`.
    public func snapshot(at now: EngineTime) -> EngineSnapshot {
        var snapshot = EngineSnapshot(devices: deviceStatuses, rules: ruleStatuses(at: now))
        snapshot.takenAtWall = now.wall
        snapshot.takenAtMonotonic = now.monotonic
        for (device, runtime) in zip(home.devices, devices) {
            snapshot.liveness[device.id] = EngineSnapshot.Liveness(
                presence: runtime.presenceIsLive,
                sensors: Set(zip(device.sensors, runtime.sensors).filter { $1.isLive }.map { $0.0.name }),
                actuators: Set(zip(device.actuators, runtime.actuators).filter { $1.isLive }.map { $0.0.name }),
                lastMessage: runtime.lastMessage, offlineBySilence: runtime.offlineBySilence, provisional: runtime.provisional)
        }
        return snapshot
    }

    /// The timers the engine waits for, earliest first, on the wall clock
    /// as it read at the latest call.
    public var pendingTimers: [PendingTimer] {
        let monotonic = timers.pending.map { ($0.key, clock.wall(at: $0.date)) }
        let all = (monotonic + wallTimers.pending.map { ($0.key, $0.date) }).enumerated()
            .sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }.map(\.element)
        return all.map { key, date in
            let purpose: PendingTimer.Purpose = switch key {
            case .hold(let rule, let trigger, _): .hold(rule: home.rules[rule].id, trigger: trigger)
            case .resume(let rule): .resume(rule: home.rules[rule].id)
            case .schedule(let rule, let trigger): .schedule(rule: home.rules[rule].id, trigger: trigger)
            case .expiry(let device): .expiry(device: home.devices[device].id)
            case .grace(let device): .grace(device: home.devices[device].id)
            }
            return PendingTimer(date: date, purpose: purpose)
        }
    }
}
