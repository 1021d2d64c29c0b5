import EventLog
import Rules

/// The causes in the event log told as sentences, for `homerules why`.
struct WhyStory {
    var time: TimeText

    // MARK: Actuators

    /// `livingroom-node.led is on (reported at 21:04:12).`
    func currentState(of name: String, _ record: EntityStateRecord?) -> String {
        guard let record else { return "\(name) has not reported a state yet." }
        return "\(name) is \(record.value) (reported at \(time.moment(record.updatedAt)))."
    }

    /// The latest action and its causes, one clause per line:
    ///
    ///     livingroom-node.led was set on at 21:04:10 by rule hot-room-led,
    ///       which fired because temperature 29.5 is above 28 for 30 s,
    ///       on message home/livingroom-node/temperature = 29.5 at 21:03:40.
    ///
    /// `chain` is `causeChain(of:)` of the action: the action first;
    /// `lostCause` tells whether the cause it ends at was never written.
    func actuatorStory(name: String, chain: [Event], actuator: Actuator?, lostCause: Bool = false) -> String {
        guard let action = chain.first else { return "" }
        var clauses = ["\(name) \(ActionEffect(action, actuator: actuator).pastTense(of: action)) at \(time.moment(action.time))"]
        if chain.count == 1, let rule = action.rule { clauses[0] += " by rule \(rule)" }
        for cause in chain.dropFirst() {
            if cause.kind == .ruleFired || cause.kind == .ruleOtherwise {
                // The firing continues the sentence of the action it caused.
                clauses[clauses.count - 1] += " by rule \(cause.rule ?? "?")"
                if let reason = firingReason(cause) { clauses.append(reason) }
            } else {
                clauses.append(origin(cause))
            }
        }
        if let last = chain.last, let cause = last.cause {
            clauses.append(lostCause ? Self.lost(cause) : "after an earlier event that is no longer in the log")
        }
        return clauses.joined(separator: ",\n  ") + "."
    }

    // MARK: Rules

    /// One decision of a rule and what it led to:
    ///
    ///     21:04:10  fired    temperature 29.5 is above 28 for 30 s
    ///                        on message home/livingroom-node/temperature = 29.5 at 21:03:40
    ///                        then set livingroom-node.led on
    func decision(
        _ event: Event, cause: Event?, causeLost: Bool = false, actions: [Event], actuators: (Event) -> Actuator?
    ) -> String {
        let verdict = Self.verdict(of: event.kind)
        let head = "\(time.moment(event.time))  \(verdict)\(String(repeating: " ", count: 9 - verdict.count))  "
        var lines = [head + EventText.oneLine(event.detail ?? "no reason recorded")]
        let indent = String(repeating: " ", count: head.count)
        if let causeID = event.cause {
            let missing = causeLost ? Self.lost(causeID) : "after an earlier event (#\(causeID)) that is no longer in the log"
            lines.append(indent + (cause.map(origin) ?? missing))
        }
        for action in actions {
            lines.append(indent + "then " + ActionEffect(action, actuator: actuators(action)).summary(of: action))
        }
        return lines.joined(separator: "\n")
    }

    /// What a decision event says the rule did: `fired`, `otherwise` or `skipped`.
    static func verdict(of kind: EventKind) -> String {
        switch kind {
        case .ruleFired: "fired"
        case .ruleOtherwise: "otherwise"
        default: "skipped"
        }
    }

    // MARK: Clauses

    /// A cause that was handed out and never written: not purged, lost.
    static func lost(_ id: Int64) -> String {
        "after event #\(id), which was never written (the daemon did not stop cleanly): the cause is lost"
    }

    /// `which fired because ...`, `which ran its otherwise actions because ...`.
    private func firingReason(_ fired: Event) -> String? {
        guard let detail = fired.detail.map(EventText.oneLine), !detail.isEmpty else { return nil }
        if fired.kind == .ruleOtherwise { return "which ran its otherwise actions because \(detail)" }
        // Logs written before `rule_otherwise` existed marked an otherwise run in the detail.
        let otherwisePrefix = "otherwise: "
        if detail.hasPrefix(otherwisePrefix) {
            return "which ran its otherwise actions because \(detail.dropFirst(otherwisePrefix.count))"
        }
        return "which fired because \(detail)"
    }

    /// `on message TOPIC = PAYLOAD at 21:03:40`, `when livingroom-node went offline at ...`.
    private func origin(_ cause: Event) -> String {
        let at = "at \(time.moment(cause.time))"
        switch cause.kind {
        case .message:
            return "on message \(EventText.oneLine(cause.topic ?? "?")) = \(EventText.payload(cause.payload ?? "")) \(at)"
        case .presence:
            let reason = cause.detail.map { " (\(EventText.oneLine($0)))" } ?? ""
            return "when \(cause.device ?? "a device") went \(cause.payload ?? "?") \(at)\(reason)"
        default:
            return "after the \(cause.kind.rawValue) event \(EventText.summary(cause)) \(at)"
        }
    }
}

/// What an `action` event did to its target, read from the event's detail
/// ("set led on") or, failing that, from the actuator's payloads.
enum ActionEffect: Equatable {
    case set(String)
    case toggle
    case publish

    init(_ action: Event, actuator: Actuator?) {
        let detail = action.detail ?? ""
        if let entity = action.entity, detail.hasPrefix("set \(entity) ") {
            self = .set(String(detail.dropFirst("set \(entity) ".count)))
        } else if let actuator, !actuator.isOnOff, let device = action.device, detail.hasPrefix("set \(device).\(actuator.name) ") {
            self = .set(String(detail.dropFirst("set \(device).\(actuator.name) ".count)))
        } else if detail.hasPrefix("toggle") || (actuator?.togglePayload != nil && action.payload == actuator?.togglePayload) {
            self = .toggle
        } else if let actuator, action.payload == actuator.payloads.on {
            self = .set("on")
        } else if let actuator, action.payload == actuator.payloads.off {
            self = .set("off")
        } else {
            self = .publish
        }
    }

    /// `was set on`, `was toggled`, `was sent 'X' on TOPIC`.
    func pastTense(of action: Event) -> String {
        switch self {
        case .set(let state): "was set \(state)"
        case .toggle: "was toggled"
        case .publish: "was sent '\(EventText.oneLine(action.payload ?? ""))' on \(EventText.oneLine(action.topic ?? "?"))"
        }
    }

    /// `set livingroom-node.led on`, `toggle desk-plug.relay`,
    /// `publish home/alerts = Desk plug went offline`.
    func summary(of action: Event) -> String {
        let target = action.device.map { device in action.entity.map { "\(device).\($0)" } ?? device }
        let message = "\(EventText.oneLine(action.topic ?? "?")) = \(EventText.payload(action.payload ?? ""))"
        switch (self, target) {
        case (.set(let state), let target?): return "set \(target) \(state)"
        case (.toggle, let target?): return "toggle \(target)"
        default: return "publish \(message)"
        }
    }
}
