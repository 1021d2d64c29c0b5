import Foundation

/// What a trigger saw in one input, before the phase machine decides.
struct Observation {
    /// Level triggers: whether their state holds now. Events: whether the
    /// input is one (a change, a matching message).
    var holds: Bool
    /// Why a state that holds may not fire: `from` did not match the value before.
    var refusal: String?
    /// A first value after unknown or offline, or a retained message.
    var isFirst: Bool
    /// Read now (a live message, or the engine's own conclusion), not a
    /// retained copy: only such a value decides a `for` that ran out while
    /// the daemon was down.
    var fresh = true
    var reason: String
    var context: TriggerContext
    var origin: InputID
    /// The concrete topic, for `mqtt` triggers that hold per topic.
    var topic: String?
}

/// Turning state changes into observations, and observations into firings
/// through each trigger's phase: idle, waiting for `for`, holding.
extension Engine {
    func phase(of ref: TriggerRef, topic: String?) -> TriggerPhase {
        let runtime = rules[ref.rule].triggers[ref.trigger]
        return topic.map { runtime.topicPhases[$0] ?? .idle } ?? runtime.phase
    }

    mutating func setPhase(_ phase: TriggerPhase, of ref: TriggerRef, topic: String?) {
        if let topic {
            rules[ref.rule].triggers[ref.trigger].topicPhases[topic] = phase == .idle ? nil : phase
        } else {
            rules[ref.rule].triggers[ref.trigger].phase = phase
        }
    }

    // MARK: Observing

    mutating func observeSensor(
        trigger ref: TriggerRef, value: SensorValue, previous: SensorValue?, topic: String, payload: String, fresh: Bool,
        at now: EngineTime, _ effects: inout Effects
    ) {
        let trigger = home.rules[ref.rule].triggers[ref.trigger]
        let context = TriggerContext(
            kind: "sensor", device: trigger.device, topic: topic, payload: payload, value: value.description,
            previous: previous?.description)
        var observation = Observation(
            holds: false, isFirst: previous == nil, fresh: fresh, reason: "", context: context, origin: effects.input)
        switch trigger.kind {
        case .threshold(let name, let threshold):
            guard let number = value.number else { return }
            let wasHolding = phase(of: ref, topic: nil) != .idle
            observation.holds = wasHolding ? !threshold.leaves(number) : threshold.enters(number)
            observation.reason = Self.thresholdReason(name.member, number, threshold, holds: observation.holds, wasHolding: wasHolding)
        case .sensorChange(let name, let change):
            describeChange(&observation, name: name.member, value: value, previous: previous, change: change, quote: value.type == .string)
        default:
            return
        }
        advance(ref, observation, at: now, &effects)
    }

    mutating func observeActuator(
        trigger ref: TriggerRef, state: ActuatorState, previous: ActuatorState?, topic: String?, fresh: Bool, at now: EngineTime,
        origin: InputID, _ effects: inout Effects
    ) {
        let trigger = home.rules[ref.rule].triggers[ref.trigger]
        guard case .actuatorChange(let name, let change) = trigger.kind else { return }
        let context = TriggerContext(
            kind: "actuator", device: name.device, topic: topic, payload: nil, value: state.rawValue, previous: previous?.rawValue)
        var observation = Observation(holds: false, isFirst: previous == nil, fresh: fresh, reason: "", context: context, origin: origin)
        describeChange(&observation, name: name.member, value: state, previous: previous, change: change, quote: false)
        advance(ref, observation, at: now, &effects)
    }

    mutating func observePresence(
        trigger ref: TriggerRef, device: Int, previous: PresenceState, fresh: Bool, at now: EngineTime, _ effects: inout Effects
    ) {
        guard case .presence(let id, let goes) = home.rules[ref.rule].triggers[ref.trigger].kind else { return }
        let state = devices[device].presence
        let context = TriggerContext(
            kind: "presence", device: id, topic: home.devices[device].presence?.topic, payload: nil, value: state.rawValue,
            previous: previous.rawValue)
        let holds = state == goes
        let observation = Observation(
            holds: holds, isFirst: previous == .unknown, fresh: fresh,
            reason: holds ? "\(id) went \(state)" : "\(id) went \(state), not \(goes)", context: context, origin: effects.input)
        advance(ref, observation, at: now, &effects)
    }

    mutating func observeMessage(_ message: IncomingMessage, trigger ref: TriggerRef, at now: EngineTime, _ effects: inout Effects) {
        let trigger = home.rules[ref.rule].triggers[ref.trigger]
        guard case .mqtt(_, let payload) = trigger.kind else { return }
        let text = message.text
        let matches = payload.map { $0 == text } ?? true
        let shown = "'\(text.prefix(60))' on \(message.topic)"
        let context = TriggerContext(kind: "mqtt", device: nil, topic: message.topic, payload: text, value: text, previous: nil)
        let observation = Observation(
            holds: matches, isFirst: message.retained, fresh: !message.retained,
            reason: matches ? "message \(shown)" : "message \(shown) is not '\(payload ?? "")'",
            context: context, origin: effects.input, topic: trigger.isLevel ? message.topic : nil)
        advance(ref, observation, at: now, &effects)
    }

    private func describeChange<Value: CustomStringConvertible>(
        _ observation: inout Observation, name: String, value: Value, previous: Value?, change: StateChange<Value>, quote: Bool
    ) {
        func shown(_ value: Value) -> String { quote ? "'\(value)'" : value.description }
        if change.from == nil, change.to == nil {
            observation.holds = previous != value
            observation.reason = previous.map { $0 == value ? "\(name) unchanged at \(shown(value))" : "\(name) changed from \(shown($0)) to \(shown(value))" }
                ?? "\(name) is \(shown(value))"
            return
        }
        observation.holds = change.holds(value)
        if observation.holds {
            observation.reason = "\(name) is \(shown(value))"
            if !change.allowsStart(from: previous), let from = change.from {
                observation.refusal = "it was \(previous.map(shown) ?? "unknown"), not \(shown(from))"
            }
        } else if let to = change.to, value != to {
            observation.reason = "\(name) is \(shown(value)), not \(shown(to))"
        } else {
            observation.reason = "\(name) is \(shown(value)) again"
        }
    }

    static func thresholdReason(_ name: String, _ value: Double, _ threshold: Threshold, holds: Bool, wasHolding: Bool) -> String {
        let shown = "\(name) \(Formatting.number(value))"
        let bounds = switch (threshold.above, threshold.below) {
        case (let above?, let below?): "between \(Formatting.number(above)) and \(Formatting.number(below))"
        case (let above?, nil): "above \(Formatting.number(above))"
        case (nil, let below?): "below \(Formatting.number(below))"
        case (nil, nil): "in range"
        }
        switch (wasHolding, holds) {
        case (false, true): return "\(shown) is \(bounds)"
        case (false, false): return "\(shown) is not \(bounds)"
        case (true, false):
            let band = threshold.hysteresis > 0 ? " by more than the hysteresis of \(Formatting.number(threshold.hysteresis))" : ""
            return "\(shown) is no longer \(bounds)\(band)"
        case (true, true):
            return threshold.enters(value)
                ? "\(shown) is still \(bounds)"
                : "\(shown) is within the hysteresis of \(Formatting.number(threshold.hysteresis)), so still counts as \(bounds)"
        }
    }

    // MARK: Phases

    /// The phase machine of one trigger. Level triggers fire on the edge
    /// into holding (after `for`), never while they keep holding; events
    /// fire each time. A first value moves the phase without firing unless
    /// the trigger says `fire_on_first_value`.
    mutating func advance(_ ref: TriggerRef, _ observation: Observation, at now: EngineTime, _ effects: inout Effects) {
        let rule = home.rules[ref.rule]
        let trigger = rule.triggers[ref.trigger]
        let silencedFirst = observation.isFirst && !trigger.firesOnFirstValue
        let reason = observation.reason
        func trace(_ decision: RuleTrace.Decision, _ text: String) {
            effects.trace(ref, rule: rule.id, decision, text, origin: observation.origin)
        }
        let firstNote = "a first value after unknown or offline is not a change (see fire_on_first_value)"

        let current = phase(of: ref, topic: observation.topic)
        if case .waiting(let waiting) = current, waiting.overdue {
            return decideOverdue(ref, waiting, observation, at: now, &effects)
        }
        guard trigger.isLevel else {
            guard observation.holds else { return trace(.skipped, reason) }
            guard !silencedFirst else { return trace(.skipped, "\(reason), but \(firstNote)") }
            if let hold = trigger.hold {
                startWaiting(ref, observation, hold: hold, at: now)
                return trace(.waiting, "\(reason); fires if it stays so for \(hold.spoken)")
            }
            return fire(ref, reason: reason, context: observation.context, origin: observation.origin, at: now, &effects)
        }

        switch (current, observation.holds) {
        case (.holding, true):
            trace(.skipped, "\(reason); it fires on the crossing only")
        case (.waiting(let waiting), true):
            let held = Formatting.duration(seconds: now.monotonic.seconds(since: waiting.since))
            trace(.waiting, "held \(held) of \(trigger.hold!.spoken) (\(reason))")
        case (.idle, true):
            if silencedFirst {
                setPhase(.holding, of: ref, topic: observation.topic)
                trace(.skipped, "\(reason), but \(firstNote)")
            } else if let refusal = observation.refusal {
                setPhase(.holding, of: ref, topic: observation.topic)
                trace(.skipped, "\(reason), but \(refusal)")
            } else if let hold = trigger.hold {
                startWaiting(ref, observation, hold: hold, at: now)
                trace(.waiting, "held 0 s of \(hold.spoken) (\(reason))")
            } else {
                setPhase(.holding, of: ref, topic: observation.topic)
                fire(ref, reason: reason, context: observation.context, origin: observation.origin, at: now, &effects)
            }
        case (.holding, false):
            setPhase(.idle, of: ref, topic: observation.topic)
            if silencedFirst {
                trace(.skipped, "\(reason); \(firstNote), so 'otherwise' does not run")
            } else {
                stopped(ref, reason: reason, context: observation.context, origin: observation.origin, at: now, &effects)
            }
        case (.waiting(let waiting), false):
            setPhase(.idle, of: ref, topic: observation.topic)
            timers.cancel(.hold(rule: ref.rule, trigger: ref.trigger, topic: observation.topic))
            let held = Formatting.duration(seconds: now.monotonic.seconds(since: waiting.since))
            trace(.skipped, "\(reason) after holding \(held) of \(trigger.hold!.spoken)")
        case (.idle, false):
            trace(.skipped, reason)
        }
    }

    /// A `for` that ran out while the daemon was down meets a value. Old
    /// news (a retained copy) decides nothing; the first fresh value fires
    /// the rule if the trigger still holds on it (for a change trigger: if
    /// nothing changed), and ends the wait otherwise.
    private mutating func decideOverdue(
        _ ref: TriggerRef, _ waiting: TriggerPhase.Waiting, _ observation: Observation, at now: EngineTime, _ effects: inout Effects
    ) {
        let rule = home.rules[ref.rule], trigger = rule.triggers[ref.trigger]
        let spoken = trigger.hold?.spoken ?? ""
        func trace(_ decision: RuleTrace.Decision, _ text: String) {
            effects.trace(ref, rule: rule.id, decision, text, origin: observation.origin)
        }
        guard observation.fresh else {
            return trace(.waiting, "\(observation.reason), a retained value: its for of \(spoken) ran out while the daemon was down, "
                         + "so the first fresh value decides")
        }
        // Any-change triggers hold while nothing changes; a change starts a new wait.
        let stillHolds = trigger.isLevel ? observation.holds : !observation.holds
        if stillHolds {
            setPhase(trigger.isLevel ? .holding : .idle, of: ref, topic: observation.topic)
            let reason = "\(waiting.reason), held \(spoken) (it ran out while the daemon was down; \(observation.reason) on the first fresh value)"
            fire(ref, reason: reason, context: waiting.context, origin: waiting.origin, at: now, &effects)
        } else if !trigger.isLevel, let hold = trigger.hold {
            startWaiting(ref, observation, hold: hold, at: now)
            trace(.waiting, "\(observation.reason); fires if it stays so for \(hold.spoken)")
        } else {
            setPhase(.idle, of: ref, topic: observation.topic)
            trace(.skipped, "\(observation.reason) on the first fresh value: its for of \(spoken) ran out while the daemon was down, "
                  + "but the condition no longer holds")
        }
    }

    private mutating func startWaiting(_ ref: TriggerRef, _ observation: Observation, hold: Duration, at now: EngineTime) {
        let waiting = TriggerPhase.Waiting(
            since: now.monotonic, origin: observation.origin, reason: observation.reason, context: observation.context)
        setPhase(.waiting(waiting), of: ref, topic: observation.topic)
        timers.schedule(.hold(rule: ref.rule, trigger: ref.trigger, topic: observation.topic), at: now.monotonic.advanced(by: hold.timeInterval))
    }

    /// A trigger's `for` has passed.
    mutating func holdEnded(_ ref: TriggerRef, topic: String?, at time: EngineTime, _ effects: inout Effects) {
        guard case .waiting(let waiting) = phase(of: ref, topic: topic) else { return }
        let trigger = home.rules[ref.rule].triggers[ref.trigger]
        setPhase(trigger.isLevel ? .holding : .idle, of: ref, topic: topic)
        let reason = "\(waiting.reason), held \(trigger.hold?.spoken ?? "")"
        fire(ref, reason: reason, context: waiting.context, origin: waiting.origin, at: time, &effects)
    }

    /// A time trigger's moment has come.
    mutating func scheduleFired(_ ref: TriggerRef, at time: EngineTime, _ effects: inout Effects) {
        guard case .schedule(let schedule) = home.rules[ref.rule].triggers[ref.trigger].kind else { return }
        // After the wall clock jumped forward over several moments, one
        // firing, and the next moment after the jump.
        let next = schedule.nextFire(after: max(time.wall, clock.wall), calendar: calendar, location: location)
        rules[ref.rule].triggers[ref.trigger].nextFire = next
        if let next { wallTimers.schedule(.schedule(rule: ref.rule, trigger: ref.trigger), at: next) }
        let shown = TimeOfDay(of: time.wall, in: calendar)
        let context = TriggerContext(kind: "schedule", device: nil, topic: nil, payload: nil, value: shown.description, previous: nil)
        fire(ref, reason: "it is \(shown) (\(schedule))", context: context, origin: effects.input, at: time, &effects)
    }

    /// Sets the phases of a rule that starts afresh from what is known now,
    /// without firing: a rule added by a reload does not fire because its
    /// condition already holds.
    mutating func settlePhases(ofRule ruleIndex: Int) {
        for (triggerIndex, trigger) in home.rules[ruleIndex].triggers.enumerated() where trigger.isLevel {
            let holds: Bool
            switch trigger.kind {
            case .threshold(let name, let threshold):
                holds = index.sensor(name, in: home).flatMap { devices[$0.device].sensors[$0.sensor].current?.number }
                    .map(threshold.enters) ?? false
            case .sensorChange(let name, let change):
                holds = index.sensor(name, in: home).flatMap { devices[$0.device].sensors[$0.sensor].current }.map(change.holds) ?? false
            case .actuatorChange(let name, let change):
                holds = index.actuator(name, in: home).flatMap { devices[$0.device].actuators[$0.actuator].current }.map(change.holds) ?? false
            case .presence(let device, let goes):
                holds = index.deviceByID[device].map { devices[$0].presence == goes } ?? false
            case .mqtt, .schedule:
                holds = false
            }
            rules[ruleIndex].triggers[triggerIndex].phase = holds ? .holding : .idle
        }
    }
}
