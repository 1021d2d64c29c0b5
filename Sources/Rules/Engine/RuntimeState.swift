import Foundation

// The engine's mutable state, plain Codable data so that it can be saved
// and restored (`EngineSnapshot`). Arrays run parallel to the home's
// devices, sensors, actuators, rules and triggers.

/// What the engine knows about one device.
struct DeviceRuntime: Sendable, Hashable, Codable {
    var presence: PresenceState = .unknown
    var presenceSince: Date?
    /// Set by a live (not retained) message: a retained copy may be older.
    var presenceIsLive = false
    /// Offline because it fell silent, not because it said so.
    var offlineBySilence = false
    /// The last live message on any of the device's topics.
    var lastSeen: Date?
    /// The last message of any kind, for `expire_after`.
    var lastMessage: MonotonicInstant?
    /// Restored from before a restart and not confirmed since: the device
    /// goes offline if it is not heard from within its grace period.
    var provisional = false
    var sensors: [ValueRuntime<SensorValue>]
    var actuators: [ValueRuntime<ActuatorState>]

    init(device: Device) {
        sensors = Array(repeating: ValueRuntime(), count: device.sensors.count)
        actuators = Array(repeating: ValueRuntime(), count: device.actuators.count)
    }
}

/// The last value of a sensor or state of an actuator.
struct ValueRuntime<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    var value: Value?
    var updatedAt: Date?
    /// False after the device went offline: the next value is a first value.
    var available = false
    var isLive = false
    /// Restored from before a restart, not read since: the value before
    /// the next reading, never a reading itself.
    var restored = false

    /// The value when it is current, nil when unknown or stale.
    var current: Value? { available ? value : nil }
}

/// Where a trigger with a state stands.
enum TriggerPhase: Sendable, Hashable, Codable {
    case idle
    /// Holding, but `for` has not passed yet.
    case waiting(Waiting)
    /// Holding (fired, or holding since a first value).
    case holding

    struct Waiting: Sendable, Hashable, Codable {
        var since: MonotonicInstant
        var origin: InputID
        var reason: String
        var context: TriggerContext
        /// The `for` ran out while the daemon was down: decided on the
        /// first fresh value, not by the clock.
        var overdue = false
    }
}

/// What the engine knows about one trigger of a rule.
struct TriggerRuntime: Sendable, Hashable, Codable {
    var phase: TriggerPhase = .idle
    /// `mqtt` triggers with a wildcard hold per concrete topic.
    var topicPhases: [String: TriggerPhase] = [:]
    /// The next firing of a time trigger.
    var nextFire: Date?
}

/// What a template knows about the event that fired a rule.
struct TriggerContext: Sendable, Hashable, Codable {
    var kind: String
    var device: String?
    var topic: String?
    var payload: String?
    var value: String?
    var previous: String?
}

/// An action list being run, paused at a `delay` or waiting in a queue.
struct ActionRun: Sendable, Hashable, Codable {
    enum Branch: String, Sendable, Hashable, Codable {
        case then, otherwise
    }

    var branch: Branch
    /// The index of the next action to run.
    var next = 0
    var resumeAt: MonotonicInstant?
    /// How late the `delay` ended, in seconds, when it ended while the
    /// daemon was down.
    var overdueBy: Double?
    var origin: InputID
    var context: TriggerContext
}

/// What the engine knows about one rule.
struct RuleRuntime: Sendable, Hashable, Codable {
    var triggers: [TriggerRuntime]
    var cooldownUntil: MonotonicInstant?
    /// Start times of recent runs, for the loop guard.
    var recentRuns = RunHistory()
    var suspended = false
    var running: ActionRun?
    var queue: [ActionRun] = []

    init(rule: Rule) {
        triggers = Array(repeating: TriggerRuntime(), count: rule.triggers.count)
    }
}

/// Start times of a rule's recent runs, oldest first, for the loop guard.
///
/// Runs that left the window are skipped by an index and compacted now and
/// then: a rule that runs thousands of times a second pays O(1) per run, not
/// a scan of the window. Equality, hashing and coding see only the runs kept
/// (coded as a plain array of instants).
struct RunHistory: Sendable, Hashable, Codable {
    private var times: [MonotonicInstant] = []
    private var start = 0

    init() {}

    /// The runs kept, oldest first.
    var runs: ArraySlice<MonotonicInstant> { times[start...] }

    /// Forgets the runs at or before `cutoff`, records one at `time`, and
    /// returns how many runs are kept.
    mutating func record(_ time: MonotonicInstant, forgettingUpTo cutoff: MonotonicInstant) -> Int {
        while start < times.count, times[start] <= cutoff { start += 1 }
        if start >= 64, start * 2 >= times.count {
            times.removeFirst(start)
            start = 0
        }
        times.append(time)
        return times.count - start
    }

    mutating func removeAll() {
        times.removeAll()
        start = 0
    }

    static func == (lhs: RunHistory, rhs: RunHistory) -> Bool {
        lhs.runs.elementsEqual(rhs.runs)
    }

    func hash(into hasher: inout Hasher) {
        for time in runs { hasher.combine(time) }
    }

    init(from decoder: any Decoder) throws {
        times = try [MonotonicInstant](from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try Array(runs).encode(to: encoder)
    }
}

// MARK: Moving to another run's clock

extension TriggerPhase {
    /// The phase with its instants moved by `shift` nanoseconds.
    func shifted(by shift: Int64) -> TriggerPhase {
        guard case .waiting(var waiting) = self else { return self }
        waiting.since.nanoseconds &+= shift
        return .waiting(waiting)
    }
}

extension RuleRuntime {
    /// The runtime with its monotonic instants moved by `shift` nanoseconds:
    /// onto the clock of a new run, whose monotonic origin differs.
    func shifted(by shift: Int64) -> RuleRuntime {
        guard shift != 0 else { return self }
        var copy = self
        for index in copy.triggers.indices {
            copy.triggers[index].phase = copy.triggers[index].phase.shifted(by: shift)
            copy.triggers[index].topicPhases = copy.triggers[index].topicPhases.mapValues { $0.shifted(by: shift) }
        }
        copy.cooldownUntil?.nanoseconds &+= shift
        copy.running?.resumeAt?.nanoseconds &+= shift
        for index in copy.queue.indices { copy.queue[index].resumeAt?.nanoseconds &+= shift }
        copy.recentRuns = RunHistory()
        return copy
    }
}
