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
    var lastMessage: Date?
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
        var since: Date
        var origin: InputID
        var reason: String
        var context: TriggerContext
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
    var resumeAt: Date?
    var origin: InputID
    var context: TriggerContext
}

/// What the engine knows about one rule.
struct RuleRuntime: Sendable, Hashable, Codable {
    var triggers: [TriggerRuntime]
    var cooldownUntil: Date?
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
/// (coded as a plain array of dates).
struct RunHistory: Sendable, Hashable, Codable {
    private var times: [Date] = []
    private var start = 0

    init() {}

    /// The runs kept, oldest first.
    var runs: ArraySlice<Date> { times[start...] }

    /// Forgets the runs at or before `cutoff`, records one at `time`, and
    /// returns how many runs are kept.
    mutating func record(_ time: Date, forgettingUpTo cutoff: Date) -> Int {
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
        times = try [Date](from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try Array(runs).encode(to: encoder)
    }
}
