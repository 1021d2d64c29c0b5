/// An automation: when a trigger fires and the conditions pass, run the actions.
public struct Rule: Sendable, Codable {
    /// Unique across all rule files.
    public var id: String
    public var description: String?
    /// A disabled rule is loaded and checked but never runs.
    public var enabled: Bool
    /// `when`: any of them.
    public var triggers: [Trigger]
    /// `if`: all of them.
    public var conditions: [Condition]
    /// `then`.
    public var actions: [Action]
    /// Run when the rule's level triggers stop holding.
    public var otherwise: [Action]
    public var mode: RuleMode
    /// After firing, the rule does not fire again for this long.
    public var cooldown: Duration?
    public var loopGuard: LoopGuard
    /// Where the rule is defined. Not part of equality, so moving a rule in
    /// its file does not make a reload treat it as a new rule.
    public var location: SourceLocation

    public init(
        id: String, description: String? = nil, enabled: Bool = true, triggers: [Trigger],
        conditions: [Condition] = [], actions: [Action], otherwise: [Action] = [], mode: RuleMode = .single,
        cooldown: Duration? = nil, loopGuard: LoopGuard = LoopGuard(), location: SourceLocation
    ) {
        self.id = id
        self.description = description
        self.enabled = enabled
        self.triggers = triggers
        self.conditions = conditions
        self.actions = actions
        self.otherwise = otherwise
        self.mode = mode
        self.cooldown = cooldown
        self.loopGuard = loopGuard
        self.location = location
    }
}

extension Rule: Hashable {
    public static func == (lhs: Rule, rhs: Rule) -> Bool {
        lhs.id == rhs.id && lhs.description == rhs.description && lhs.enabled == rhs.enabled
            && lhs.triggers == rhs.triggers && lhs.conditions == rhs.conditions && lhs.actions == rhs.actions
            && lhs.otherwise == rhs.otherwise && lhs.mode == rhs.mode && lhs.cooldown == rhs.cooldown
            && lhs.loopGuard == rhs.loopGuard
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(triggers)
        hasher.combine(actions)
    }
}

/// What happens when a rule fires while its actions are still running (a
/// `delay` is pending), as in Home Assistant.
public enum RuleMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Ignore the new firing.
    case single
    /// Stop the running actions and start again.
    case restart
    /// Run the new firing after the running one, up to `RuleMode.queueLimit` waiting.
    case queued

    /// How many firings a queued rule keeps waiting (Home Assistant's default `max`).
    public static let queueLimit = 10
}

/// Suspends a rule that fires too often, which almost always means two rules
/// (or one) drive each other in a loop.
public struct LoopGuard: Sendable, Hashable, Codable {
    /// More runs than this within `window` suspend the rule.
    public var maxRuns: Int
    public var window: Duration

    public init(maxRuns: Int = 20, window: Duration = .seconds(10)) {
        self.maxRuns = maxRuns
        self.window = window
    }
}

extension Rule {
    /// Whether a trigger or a condition of the rule follows the sun, and so
    /// needs the home's location. Walks nested conditions with a work list.
    public var followsTheSun: Bool {
        if triggers.contains(where: { if case .schedule(let schedule) = $0.kind { schedule.followsTheSun } else { false } }) {
            return true
        }
        var pending = conditions
        while let condition = pending.popLast() {
            switch condition {
            case .all(let inner), .any(let inner), .not(let inner):
                pending += inner
            case .time(let window):
                if window.followsTheSun { return true }
            case .sensor, .actuator, .presence:
                continue
            }
        }
        return false
    }
}
