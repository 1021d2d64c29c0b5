import Foundation

/// Running due timers, and deriving the timers from the state.
extension Engine {
    /// Runs every timer due at `now`, earliest first, each at its own
    /// deadline so that a late tick gives the same result as a punctual one.
    mutating func runTimers(until now: Date, _ effects: inout Effects) {
        var count = 0
        while let (key, due) = timers.popDue(at: now) {
            count += 1
            guard count <= 100_000 else {
                effects.emit(.problem(Problem(rule: nil, message: "more than 100000 timers due in one step; the rest wait for the next tick")))
                return
            }
            switch key {
            case .hold(let rule, let trigger, let topic):
                holdEnded(TriggerRef(rule: rule, trigger: trigger), topic: topic, at: due, &effects)
            case .resume(let rule):
                continueRun(ruleIndex: rule, at: due, &effects)
            case .schedule(let rule, let trigger):
                scheduleFired(TriggerRef(rule: rule, trigger: trigger), at: due, &effects)
            case .expiry(let device):
                checkExpiry(device: device, at: due, &effects)
            }
            settle(&effects, at: due)
        }
    }

    /// Schedules what the state waits for: expiry checks, `for` holds,
    /// paused runs, and the next firing of every time trigger after `now`.
    mutating func scheduleTimers(now: Date) {
        for device in devices.indices { armExpiry(device: device) }
        for (ruleIndex, rule) in home.rules.enumerated() where rule.enabled {
            for (triggerIndex, trigger) in rule.triggers.enumerated() {
                let runtime = rules[ruleIndex].triggers[triggerIndex]
                let holds = [(nil, runtime.phase)] + runtime.topicPhases.map { ($0.key as String?, $0.value) }
                for (topic, phase) in holds {
                    guard case .waiting(let waiting) = phase, let hold = trigger.hold else { continue }
                    timers.schedule(.hold(rule: ruleIndex, trigger: triggerIndex, topic: topic),
                                    at: waiting.since.addingTimeInterval(hold.timeInterval))
                }
                if case .schedule(let schedule) = trigger.kind {
                    let next = schedule.nextFire(after: now, calendar: calendar)
                    rules[ruleIndex].triggers[triggerIndex].nextFire = next
                    if let next { timers.schedule(.schedule(rule: ruleIndex, trigger: triggerIndex), at: next) }
                }
            }
            if let resumeAt = rules[ruleIndex].running?.resumeAt {
                timers.schedule(.resume(rule: ruleIndex), at: resumeAt)
            }
        }
    }
}
