import Foundation

/// The rule evaluator: a pure state machine from inputs (messages, clock
/// ticks) to outputs (state changes, traces, messages to publish).
///
/// It owns the state of devices (presence, sensor values, actuator states)
/// and of rules (trigger phases, runs paused by `delay`, cooldowns, the loop
/// guard). Time comes only from the `now` of each call, so tests drive `for`,
/// `delay` and `cooldown` with any clock they like. The caller sends
/// `.tick` at `nextDeadline`.
public struct Engine: Sendable {
    public let home: Home
    /// The zone of `at` times, cron schedules and time conditions.
    public let timeZone: TimeZone
    let calendar: Calendar
    let index: EngineIndex
    /// Silence before this moment does not count for `expire_after`: the
    /// engine was not listening.
    let startedAt: Date
    var devices: [DeviceRuntime]
    var rules: [RuleRuntime]
    var timers = TimerQueue()

    /// An engine that knows nothing yet.
    public init(home: Home, now: Date, timeZone: TimeZone = .current) {
        self.init(home: home, restoring: EngineSnapshot(), now: now, timeZone: timeZone)
    }

    /// An engine seeded with state saved earlier, as after a restart: device
    /// presence, sensor values and actuator states of devices that still
    /// exist, and the state of rules that did not change. Restored states
    /// count as not live, so the broker's retained messages that follow
    /// still apply.
    public init(home: Home, restoring snapshot: EngineSnapshot, now: Date, timeZone: TimeZone = .current) {
        self.init(home: home, snapshot: snapshot, keepLiveness: false, now: now, timeZone: timeZone)
    }

    init(home: Home, snapshot: EngineSnapshot, keepLiveness: Bool, now: Date, timeZone: TimeZone, listeningSince: Date? = nil) {
        self.home = home
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        index = EngineIndex(home: home)
        startedAt = listeningSince ?? now
        devices = home.devices.map { snapshot.restore(device: $0, keepLiveness: keepLiveness) }
        rules = []
        var freshRules: [Int] = []
        for (ruleIndex, rule) in home.rules.enumerated() {
            if let restored = snapshot.restore(rule: rule) {
                rules.append(restored)
            } else {
                rules.append(RuleRuntime(rule: rule))
                freshRules.append(ruleIndex)
            }
        }
        for ruleIndex in freshRules { settlePhases(ofRule: ruleIndex) }
        scheduleTimers(now: now)
    }

    /// A new engine for a reloaded home that keeps what this one knows:
    /// the state of devices that still exist (with which states came from
    /// live messages, and how long each device has been silent), and of
    /// rules that did not change. Rules suspended by the loop guard run
    /// again.
    public func reloaded(with newHome: Home, now: Date) -> Engine {
        Engine(home: newHome, snapshot: snapshot, keepLiveness: true, now: now, timeZone: timeZone, listeningSince: startedAt)
    }

    /// Handles one input at `now` and returns what followed from it.
    public mutating func handle(_ input: Input, id: InputID, at now: Date) -> [Output] {
        var effects = Effects(input: id)
        runTimers(until: now, &effects)
        if case .message(let message) = input {
            receive(message, at: now, &effects)
            settle(&effects, at: now)
        }
        return effects.outputs
    }

    /// When the caller must send the next `.tick`: the end of a `for`, a
    /// `delay`, a time trigger, an `expire_after`. Nil when nothing waits.
    public var nextDeadline: Date? { timers.earliest }

    /// After the caller lost and regained its subscriptions (a reconnect to
    /// an external broker), the retained messages that follow may be news:
    /// accept them again over states set by earlier live messages.
    public mutating func trustRetainedMessagesAgain() {
        for device in devices.indices {
            devices[device].presenceIsLive = false
            for sensor in devices[device].sensors.indices { devices[device].sensors[sensor].isLive = false }
            for actuator in devices[device].actuators.indices { devices[device].actuators[actuator].isLive = false }
        }
    }
}

/// The outputs of one `handle` call, and the state changes still to apply.
struct Effects {
    let input: InputID
    var outputs: [Output] = []
    /// Actuator states assumed after commands, applied once the current
    /// step is done so that rules driving each other do not recurse.
    var assumedStates: [(device: Int, actuator: Int, state: ActuatorState, origin: InputID)] = []

    init(input: InputID) {
        self.input = input
    }

    mutating func emit(_ event: OutputEvent, origin: InputID? = nil) {
        outputs.append(Output(input: input, origin: origin ?? input, event: event))
    }

    mutating func trace(_ ref: TriggerRef?, rule: String, _ decision: RuleTrace.Decision, _ reason: String, origin: InputID? = nil) {
        emit(.ruleTrace(RuleTrace(rule: rule, trigger: ref?.trigger, decision: decision, reason: reason)), origin: origin)
    }
}
