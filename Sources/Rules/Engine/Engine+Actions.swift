import Foundation
import MQTTTopics

/// Running action lists: commands, publications, delays.
extension Engine {
    /// Starts `run`, replacing whatever the rule was running.
    mutating func startRun(_ run: ActionRun, ruleIndex: Int, at now: EngineTime, _ effects: inout Effects) {
        timers.cancel(.resume(rule: ruleIndex))
        rules[ruleIndex].running = run
        continueRun(ruleIndex: ruleIndex, at: now, &effects)
    }

    /// Runs actions until a `delay` pauses the run or the list ends; then
    /// starts the next queued run, if any.
    mutating func continueRun(ruleIndex: Int, at now: EngineTime, _ effects: inout Effects) {
        let rule = home.rules[ruleIndex]
        while var run = rules[ruleIndex].running {
            let actions = run.branch == .then ? rule.actions : rule.otherwise
            guard run.next < actions.count else {
                rules[ruleIndex].running = rules[ruleIndex].queue.isEmpty ? nil : rules[ruleIndex].queue.removeFirst()
                continue
            }
            let action = actions[run.next]
            run.next += 1
            run.resumeAt = nil
            run.overdueBy = nil
            rules[ruleIndex].running = run
            switch action {
            case .delay(let duration):
                guard duration > .zero else { continue }
                let resumeAt = now.monotonic.advanced(by: duration.timeInterval)
                rules[ruleIndex].running?.resumeAt = resumeAt
                timers.schedule(.resume(rule: ruleIndex), at: resumeAt)
                return
            case .set(let name, let setting):
                command(name, to: setting, rule: rule.id, origin: run.origin, &effects)
            case .toggle(let name):
                toggle(name, rule: rule.id, origin: run.origin, &effects)
            case .publish(let publish):
                self.publish(publish, ruleIndex: ruleIndex, run: run, at: now, &effects)
            case .http(let request):
                effects.emit(.http(httpRequest(request, rule: rule, run: run, at: now)), origin: run.origin)
            }
        }
    }

    private mutating func command(_ name: QualifiedName, to setting: ActuatorSetting, rule: String, origin: InputID, _ effects: inout Effects) {
        guard let (device, actuator) = index.actuator(name, in: home) else { return }
        let definition = home.devices[device].actuators[actuator]
        send(definition.commandPayload(for: setting), setting: setting, to: name, definition, rule: rule, origin: origin, &effects)
        if definition.stateTopic == nil, case .state(let state) = setting { effects.assumedStates.append((device, actuator, state, origin)) }
    }

    /// Sends the toggle payload when the actuator has one; otherwise the
    /// opposite of its last known state (on when unknown).
    private mutating func toggle(_ name: QualifiedName, rule: String, origin: InputID, _ effects: inout Effects) {
        guard let (device, actuator) = index.actuator(name, in: home) else { return }
        let definition = home.devices[device].actuators[actuator]
        let known = devices[device].actuators[actuator].value
        guard let togglePayload = definition.togglePayload else {
            return command(name, to: .state(known == .on ? .off : .on), rule: rule, origin: origin, &effects)
        }
        send(togglePayload, setting: nil, to: name, definition, rule: rule, origin: origin, &effects)
        if definition.stateTopic == nil, let known { effects.assumedStates.append((device, actuator, known.toggled, origin)) }
    }

    private func send(
        _ payload: String, setting: ActuatorSetting?, to name: QualifiedName, _ actuator: Actuator, rule: String, origin: InputID,
        _ effects: inout Effects
    ) {
        effects.emit(.publish(Publication(
            topic: actuator.commandTopic, payload: Array(payload.utf8), qos: actuator.qos, retain: actuator.retain,
            rule: rule, actuator: name, setting: setting)), origin: origin)
    }

    private func publish(_ publish: PublishAction, ruleIndex: Int, run: ActionRun, at now: EngineTime, _ effects: inout Effects) {
        let rule = home.rules[ruleIndex]
        let topic = render(publish.topic, rule: rule, context: run.context, at: now.wall)
        if let problem = TopicFilter.problem(name: topic) {
            effects.emit(.problem(Problem(
                rule: rule.id, message: "rule '\(rule.id)' did not publish: topic '\(topic)' from '\(publish.topic)' is invalid: \(problem)")),
                origin: run.origin)
            return
        }
        let payload = render(publish.payload, rule: rule, context: run.context, at: now.wall)
        effects.emit(.publish(Publication(
            topic: topic, payload: Array(payload.utf8), qos: publish.qos, retain: publish.retain, rule: rule.id, actuator: nil)),
            origin: run.origin)
    }

    private func httpRequest(_ request: HTTPAction, rule: Rule, run: ActionRun, at now: EngineTime) -> HTTPRequest {
        func rendered(_ template: Template) -> SecretText {
            renderKeepingSecrets(template, rule: rule, context: run.context, at: now.wall)
        }
        return HTTPRequest(
            rule: rule.id, method: request.method, url: rendered(request.url),
            headers: request.headers.map { HTTPRequest.Header(name: $0.name, value: rendered($0.value)) },
            body: request.body.map(rendered), timeout: request.timeout, retries: request.retries, cafile: request.cafile)
    }

    /// A run paused by `delay` resumes; one whose delay ended while the
    /// daemon was down, longer ago than `overdue_delay_limit`, is dropped
    /// with the reason, and the rule's next queued run starts.
    mutating func resume(ruleIndex: Int, at now: EngineTime, _ effects: inout Effects) {
        guard let run = rules[ruleIndex].running, let late = run.overdueBy, late > policy.overdueDelayLimit.timeInterval else {
            return continueRun(ruleIndex: ruleIndex, at: now, &effects)
        }
        let rule = home.rules[ruleIndex]
        let actions = run.branch == .then ? rule.actions : rule.otherwise
        let delay = run.next > 0 ? actions[run.next - 1] : nil
        let what = if case .delay(let duration)? = delay { "its delay of \(duration.spoken)" } else { "its delay" }
        let branch = run.branch == .then ? "" : " of otherwise"
        effects.trace(nil, rule: rule.id, .skipped,
                      "\(what) ended \(Formatting.duration(seconds: late)) ago, while the daemon was down: later than "
                      + "overdue_delay_limit (\(policy.overdueDelayLimit.spoken)), so the remaining \(actions.count - run.next) "
                      + "action(s)\(branch) were skipped", origin: run.origin)
        rules[ruleIndex].running = rules[ruleIndex].queue.isEmpty ? nil : rules[ruleIndex].queue.removeFirst()
        if rules[ruleIndex].running != nil { continueRun(ruleIndex: ruleIndex, at: now, &effects) }
    }

    /// Applies the actuator states that commands imply, after the step
    /// that sent them; rules watching those actuators react in turn.
    mutating func settle(_ effects: inout Effects, at now: EngineTime) {
        var applied = 0
        while !effects.assumedStates.isEmpty {
            applied += 1
            guard applied <= 10_000 else {
                effects.emit(.problem(Problem(rule: nil, message: "more than 10000 assumed actuator changes in one step; the rest were dropped")))
                effects.assumedStates.removeAll()
                return
            }
            let change = effects.assumedStates.removeFirst()
            setActuator(device: change.device, actuator: change.actuator, to: change.state, live: true, assumed: true,
                        topic: nil, at: now, origin: change.origin, &effects)
        }
    }
}
