import Foundation

/// Deciding whether a triggered rule runs: suspension, cooldown,
/// conditions, mode, loop guard.
extension Engine {
    /// A trigger fired: run `then` if everything allows it.
    mutating func fire(_ ref: TriggerRef, reason: String, context: TriggerContext, origin: InputID, at now: EngineTime, _ effects: inout Effects) {
        let rule = home.rules[ref.rule]
        func skip(_ why: String) {
            effects.trace(ref, rule: rule.id, .skipped, "\(reason), but \(why)", origin: origin)
        }
        if rules[ref.rule].suspended {
            return skip("the rule is suspended by the loop guard until the rules are reloaded")
        }
        if let until = rules[ref.rule].cooldownUntil, now.monotonic < until {
            return skip("in cooldown until \(Formatting.clockTime(now.wall(at: until), calendar: calendar))")
        }
        if let failure = conditionFailure(rule.conditions, at: now.wall) {
            return skip(failure)
        }
        let run = ActionRun(branch: .then, origin: origin, context: context)
        var restarted = false
        if let running = rules[ref.rule].running, running.branch == .then {
            switch rule.mode {
            case .single:
                return skip("its actions are still running (mode single)")
            case .queued:
                guard rules[ref.rule].queue.count < RuleMode.queueLimit else {
                    effects.emit(.problem(Problem(
                        rule: rule.id, message: "rule '\(rule.id)' has \(RuleMode.queueLimit) runs queued; a firing was dropped")), origin: origin)
                    return skip("its queue is full")
                }
                guard admitRun(ruleIndex: ref.rule, at: now, origin: origin, &effects) else { return skip("the loop guard suspended it") }
                rules[ref.rule].queue.append(run)
                return effects.trace(ref, rule: rule.id, .queued, "\(reason); queued behind the running actions", origin: origin)
            case .restart:
                restarted = true
            }
        }
        guard admitRun(ruleIndex: ref.rule, at: now, origin: origin, &effects) else { return skip("the loop guard suspended it") }
        if let cooldown = rule.cooldown { rules[ref.rule].cooldownUntil = now.monotonic.advanced(by: cooldown.timeInterval) }
        effects.trace(ref, rule: rule.id, .fired, restarted ? "\(reason) (restarted the running actions)" : reason, origin: origin)
        startRun(run, ruleIndex: ref.rule, at: now, &effects)
    }

    /// The reason of a run by hand, as traced and logged.
    public static func runByHandReason(by who: String) -> String { "run by hand (\(who))" }

    /// `homerules rules run`: `then` now, as a firing that says who asked;
    /// no trigger fired, so the trace names none.
    mutating func runByHand(_ ruleID: String, by who: String, at now: EngineTime, _ effects: inout Effects) {
        guard let index = home.rules.firstIndex(where: { $0.id == ruleID }) else { return }
        let reason = Self.runByHandReason(by: who)
        guard admitRun(ruleIndex: index, at: now, origin: effects.input, &effects) else {
            return effects.trace(nil, rule: ruleID, .skipped, "\(reason), but the loop guard suspended it")
        }
        let context = TriggerContext(kind: "manual", device: nil, topic: nil, payload: nil, value: nil, previous: nil)
        effects.trace(nil, rule: ruleID, .fired, reason)
        startRun(ActionRun(branch: .then, origin: effects.input, context: context), ruleIndex: index, at: now, &effects)
    }

    /// A level trigger stopped holding: run `otherwise` once no level
    /// trigger of the rule holds. `otherwise` replaces whatever runs.
    mutating func stopped(_ ref: TriggerRef, reason: String, context: TriggerContext, origin: InputID, at now: EngineTime, _ effects: inout Effects) {
        let rule = home.rules[ref.rule]
        func skip(_ why: String) {
            effects.trace(ref, rule: rule.id, .skipped, why.isEmpty ? reason : "\(reason), but \(why)", origin: origin)
        }
        if othersHold(ref) { return skip("another of its triggers still holds") }
        guard !rule.otherwise.isEmpty else { return skip("") }
        if rules[ref.rule].suspended { return skip("the rule is suspended by the loop guard until the rules are reloaded") }
        guard admitRun(ruleIndex: ref.rule, at: now, origin: origin, &effects) else { return skip("the loop guard suspended it") }
        rules[ref.rule].queue.removeAll()
        effects.trace(ref, rule: rule.id, .otherwise, reason, origin: origin)
        startRun(ActionRun(branch: .otherwise, origin: origin, context: context), ruleIndex: ref.rule, at: now, &effects)
    }

    private func othersHold(_ ref: TriggerRef) -> Bool {
        let triggers = home.rules[ref.rule].triggers
        return triggers.indices.contains { index in
            guard index != ref.trigger, triggers[index].isLevel else { return false }
            let runtime = rules[ref.rule].triggers[index]
            return runtime.phase == .holding || runtime.topicPhases.values.contains(.holding)
        }
    }

    /// Counts a run for the loop guard; suspends the rule when it runs more
    /// often than the guard allows, which almost always means a loop.
    private mutating func admitRun(ruleIndex: Int, at now: EngineTime, origin: InputID, _ effects: inout Effects) -> Bool {
        let settings = home.rules[ruleIndex].loopGuard
        let windowStart = now.monotonic.advanced(by: -settings.window.timeInterval)
        let runs = rules[ruleIndex].recentRuns.record(now.monotonic, forgettingUpTo: windowStart)
        guard runs > settings.maxRuns else { return true }
        rules[ruleIndex].suspended = true
        rules[ruleIndex].running = nil
        rules[ruleIndex].queue.removeAll()
        rules[ruleIndex].recentRuns.removeAll()
        timers.cancel(.resume(rule: ruleIndex))
        let id = home.rules[ruleIndex].id
        effects.emit(.problem(Problem(
            rule: id,
            message: "rule '\(id)' ran more than \(settings.maxRuns) times within \(settings.window.spoken) and is suspended "
                + "until the rules are reloaded: rules may be triggering each other in a loop")), origin: origin)
        return false
    }
}
