import Foundation

/// The rule evaluator: a pure state machine from inputs (messages, clock
/// ticks) to outputs (state changes, traces, messages to publish).
///
/// It owns the state of devices (presence, sensor values, actuator states)
/// and of rules (trigger phases, runs paused by `delay`, cooldowns, the loop
/// guard). Time comes only from the `now` of each call, on two clocks
/// (`EngineTime`): durations run on the monotonic one, `at` and `cron` on the
/// wall clock, so tests drive both as they like and a wall clock set by NTP
/// neither ends a `for` nor silences a device. The caller sends `.tick` at
/// `nextDeadline(from:)`.
public struct Engine: Sendable {
    public let home: Home
    /// The zone of `at` times, cron schedules and time conditions.
    public let timeZone: TimeZone
    /// Where the home is, for `sun` triggers; without it they never fire.
    public let location: GeoLocation?
    let calendar: Calendar
    let index: EngineIndex
    let policy: RestartPolicy
    /// Silence before this moment does not count for `expire_after`: the
    /// engine was not listening. Grace periods count from it too.
    let startedAt: MonotonicInstant
    /// The time of the latest call, to show monotonic deadlines on the wall clock.
    var clock: EngineTime
    var devices: [DeviceRuntime]
    var rules: [RuleRuntime]
    /// `for`, `delay`, `expire_after` and grace periods.
    var timers = TimerQueue<MonotonicInstant>()
    /// `at` and `cron`.
    var wallTimers = TimerQueue<Date>()

    /// An engine that knows nothing yet, in virtual time (both clocks from `now`).
    public init(home: Home, now: Date, timeZone: TimeZone = .current) {
        self.init(home: home, restoring: EngineSnapshot(), now: EngineTime(now), timeZone: timeZone)
    }

    /// An engine seeded with state saved earlier, in virtual time.
    public init(home: Home, restoring snapshot: EngineSnapshot, now: Date, timeZone: TimeZone = .current, policy: RestartPolicy = RestartPolicy()) {
        self.init(home: home, restoring: snapshot, now: EngineTime(now), timeZone: timeZone, policy: policy)
    }

    /// An engine seeded with state saved earlier, as after a restart: device
    /// presence, sensor values and actuator states of devices that still
    /// exist, and the state of rules that did not change. Restored states
    /// count as not live, so the broker's retained messages that follow
    /// still apply; restored presence is provisional until the device is
    /// heard from; a `for` or `delay` that ran out meanwhile is overdue.
    public init(
        home: Home, restoring snapshot: EngineSnapshot, now: EngineTime, timeZone: TimeZone = .current,
        policy: RestartPolicy = RestartPolicy(), location: GeoLocation? = nil
    ) {
        self.init(
            home: home, snapshot: snapshot, keepLiveness: false, now: now, timeZone: timeZone, policy: policy, location: location)
    }

    init(
        home: Home, snapshot: EngineSnapshot, keepLiveness: Bool, now: EngineTime, timeZone: TimeZone, policy: RestartPolicy,
        location: GeoLocation? = nil, listeningSince: MonotonicInstant? = nil
    ) {
        self.location = location
        self.home = home
        self.timeZone = timeZone
        self.policy = policy
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        index = EngineIndex(home: home)
        startedAt = listeningSince ?? now.monotonic
        clock = now
        // A reload stays on this run's clock; a restart moves saved instants onto the new one.
        let shift = keepLiveness ? 0 : snapshot.monotonicShift(to: now)
        devices = home.devices.map { snapshot.restore(device: $0, keepLiveness: keepLiveness) }
        rules = []
        var freshRules: [Int] = []
        for (ruleIndex, rule) in home.rules.enumerated() {
            if let restored = snapshot.restore(rule: rule) {
                rules.append(restored.shifted(by: shift))
            } else {
                rules.append(RuleRuntime(rule: rule))
                freshRules.append(ruleIndex)
            }
        }
        for ruleIndex in freshRules { settlePhases(ofRule: ruleIndex) }
        if !keepLiveness { markOverdue(now: now) }
        scheduleTimers(now: now)
    }

    /// A new engine for a reloaded home that keeps what this one knows:
    /// the state of devices that still exist (with which states came from
    /// live messages, and how long each device has been silent), and of
    /// rules that did not change. Rules suspended by the loop guard run
    /// again.
    public func reloaded(with newHome: Home, now: EngineTime) -> Engine {
        Engine(
            home: newHome, snapshot: snapshot(at: now), keepLiveness: true, now: now, timeZone: timeZone, policy: policy,
            location: location, listeningSince: startedAt)
    }

    /// `reloaded(with:now:)` in virtual time.
    public func reloaded(with newHome: Home, now: Date) -> Engine {
        reloaded(with: newHome, now: EngineTime(now))
    }

    /// Handles one input at `now` and returns what followed from it.
    public mutating func handle(_ input: Input, id: InputID, at now: EngineTime) -> [Output] {
        clock = now
        var effects = Effects(input: id)
        runTimers(until: now, &effects)
        switch input {
        case .message(let message):
            receive(message, at: now, &effects)
            settle(&effects, at: now)
        case .runByHand(let rule, let by):
            runByHand(rule, by: by, at: now, &effects)
            settle(&effects, at: now)
        case .tick:
            break
        }
        return effects.outputs
    }

    /// `handle(_:id:at:)` in virtual time, both clocks at `now`.
    public mutating func handle(_ input: Input, id: InputID, at now: Date) -> [Output] {
        handle(input, id: id, at: EngineTime(now))
    }

    /// When the caller must send the next `.tick`, on the monotonic clock:
    /// the end of a `for`, a `delay`, an `expire_after`, a grace period, or
    /// a time trigger's moment as the wall clock reads at `now`. Nil when
    /// nothing waits. A caller asks again after the wall clock jumped.
    public func nextDeadline(from now: EngineTime) -> MonotonicInstant? {
        let wall = wallTimers.earliest.map { now.monotonic(at: $0) }
        switch (timers.earliest, wall) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b): return b
        }
    }

    /// The next deadline on the wall clock, as it read at the latest call:
    /// what virtual time (tests, `rules test`) waits for.
    public var nextDeadline: Date? { nextDeadline(from: clock).map { clock.wall(at: $0) } }

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
