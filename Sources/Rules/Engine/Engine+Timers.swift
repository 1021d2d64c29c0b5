import Foundation

/// Running due timers, and deriving the timers from the state.
extension Engine {
    /// Runs every timer due at `now`, earliest first, each at its own
    /// deadline so that a late tick gives the same result as a punctual one.
    /// Monotonic timers are due by the monotonic clock, `at` and `cron` by
    /// the wall clock; between the two, the order is the monotonic one.
    mutating func runTimers(until now: EngineTime, _ effects: inout Effects) {
        var count = 0
        while let (key, due) = popDue(at: now) {
            count += 1
            guard count <= 100_000 else {
                effects.emit(.problem(Problem(rule: nil, message: "more than 100000 timers due in one step; the rest wait for the next tick")))
                return
            }
            switch key {
            case .hold(let rule, let trigger, let topic):
                holdEnded(TriggerRef(rule: rule, trigger: trigger), topic: topic, at: due, &effects)
            case .resume(let rule):
                resume(ruleIndex: rule, at: due, &effects)
            case .schedule(let rule, let trigger):
                scheduleFired(TriggerRef(rule: rule, trigger: trigger), at: due, &effects)
            case .expiry(let device):
                checkExpiry(device: device, at: due, &effects)
            case .grace(let device):
                graceEnded(device: device, at: due, &effects)
            }
            settle(&effects, at: due)
        }
    }

    /// The earliest timer due at `now`, with both clocks at its deadline.
    /// A timer that fell due before the engine started (restored, overdue)
    /// runs as of the start.
    private mutating func popDue(at now: EngineTime) -> (TimerKey, EngineTime)? {
        let monotonic = timers.earliest.flatMap { $0 <= now.monotonic ? $0 : nil }
        let wall = wallTimers.earliest.flatMap { $0 <= now.wall ? now.monotonic(at: $0) : nil }
        switch (monotonic, wall) {
        case (let first?, let second) where second.map({ first <= $0 }) ?? true:
            guard let (key, due) = timers.popDue(at: now.monotonic) else { return nil }
            let at = max(due, startedAt)
            return (key, EngineTime(wall: now.wall(at: at), monotonic: at))
        case (_, .some):
            guard let (key, due) = wallTimers.popDue(at: now.wall) else { return nil }
            return (key, EngineTime(wall: due, monotonic: now.monotonic(at: due)))
        default:
            return nil
        }
    }

    /// Schedules what the state waits for: expiry checks, grace periods,
    /// `for` holds that are not overdue, paused runs, and the next firing
    /// of every time trigger after `now`.
    mutating func scheduleTimers(now: EngineTime) {
        for device in devices.indices {
            armExpiry(device: device)
            if devices[device].provisional {
                timers.schedule(.grace(device: device), at: startedAt.advanced(by: policy.gracePeriod(of: home.devices[device]).timeInterval))
            }
        }
        for (ruleIndex, rule) in home.rules.enumerated() where rule.enabled {
            for (triggerIndex, trigger) in rule.triggers.enumerated() {
                let runtime = rules[ruleIndex].triggers[triggerIndex]
                let holds = [(nil, runtime.phase)] + runtime.topicPhases.map { ($0.key as String?, $0.value) }
                for (topic, phase) in holds {
                    guard case .waiting(let waiting) = phase, !waiting.overdue, let hold = trigger.hold else { continue }
                    timers.schedule(.hold(rule: ruleIndex, trigger: triggerIndex, topic: topic),
                                    at: waiting.since.advanced(by: hold.timeInterval))
                }
                if case .schedule(let schedule) = trigger.kind {
                    let next = schedule.nextFire(after: now.wall, calendar: calendar, location: location)
                    rules[ruleIndex].triggers[triggerIndex].nextFire = next
                    if let next { wallTimers.schedule(.schedule(rule: ruleIndex, trigger: triggerIndex), at: next) }
                }
            }
            if let resumeAt = rules[ruleIndex].running?.resumeAt {
                timers.schedule(.resume(rule: ruleIndex), at: resumeAt)
            }
        }
    }

    /// After a restart: a `for` that ran out while the daemon was down is
    /// decided on the first fresh value (the restored or retained one may
    /// be hours old), and a `delay` that ran out notes how late it is.
    mutating func markOverdue(now: EngineTime) {
        for (ruleIndex, rule) in home.rules.enumerated() {
            for (triggerIndex, trigger) in rule.triggers.enumerated() {
                guard let hold = trigger.hold else { continue }
                func marked(_ phase: TriggerPhase) -> TriggerPhase {
                    guard case .waiting(var waiting) = phase, waiting.since.advanced(by: hold.timeInterval) <= now.monotonic
                    else { return phase }
                    waiting.overdue = true
                    return .waiting(waiting)
                }
                rules[ruleIndex].triggers[triggerIndex].phase = marked(rules[ruleIndex].triggers[triggerIndex].phase)
                rules[ruleIndex].triggers[triggerIndex].topicPhases = rules[ruleIndex].triggers[triggerIndex].topicPhases.mapValues(marked)
            }
            if let resumeAt = rules[ruleIndex].running?.resumeAt, resumeAt <= now.monotonic {
                rules[ruleIndex].running?.overdueBy = now.monotonic.seconds(since: resumeAt)
            }
        }
    }
}
