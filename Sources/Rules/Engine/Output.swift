import Foundation

/// Something the engine decided or observed while handling an input.
public struct Output: Sendable, Hashable, Codable {
    /// The input being handled.
    public var input: InputID
    /// The input that started the chain: the message that began a `for`
    /// hold or a run paused by `delay`; the same as `input` otherwise.
    public var origin: InputID
    public var event: OutputEvent

    public init(input: InputID, origin: InputID, event: OutputEvent) {
        self.input = input
        self.origin = origin
        self.event = event
    }
}

/// The kinds of output.
public enum OutputEvent: Sendable, Hashable, Codable {
    case presenceChanged(PresenceChange)
    case sensorUpdated(SensorUpdate)
    case actuatorUpdated(ActuatorUpdate)
    /// Why a rule fired or did not: one for every rule an input reached.
    case ruleTrace(RuleTrace)
    /// A message the daemon must publish.
    case publish(Publication)
    /// A request the daemon must send.
    case http(HTTPRequest)
    /// A message that changed nothing, and why.
    case messageIgnored(IgnoredMessage)
    /// Something went wrong in a rule, such as the loop guard suspending it.
    case problem(Problem)
}

/// A device's presence changed.
public struct PresenceChange: Sendable, Hashable, Codable {
    public var device: String
    public var from: PresenceState
    public var to: PresenceState
    public var since: Date
    /// `announced 'offline' on home/node/status`, `silent for 5 min (expire_after)`.
    public var reason: String

    public init(device: String, from: PresenceState, to: PresenceState, since: Date, reason: String) {
        self.device = device
        self.from = from
        self.to = to
        self.since = since
        self.reason = reason
    }
}

/// A sensor reported a value: one per reading, changed or not.
public struct SensorUpdate: Sendable, Hashable, Codable {
    public var device: String
    public var sensor: String
    public var value: SensorValue
    /// The value before, when there was one; nil after unknown or offline.
    public var previous: SensorValue?
    public var at: Date

    public init(device: String, sensor: String, value: SensorValue, previous: SensorValue?, at: Date) {
        self.device = device
        self.sensor = sensor
        self.value = value
        self.previous = previous
        self.at = at
    }
}

/// An actuator reported its state, or the engine assumed one after a command.
public struct ActuatorUpdate: Sendable, Hashable, Codable {
    public var device: String
    public var actuator: String
    public var state: ActuatorState
    /// The state before, when there was one; nil after unknown or offline.
    public var previous: ActuatorState?
    public var at: Date
    /// True when the engine assumes the state because it sent the command
    /// and the actuator has no state topic.
    public var assumed: Bool

    public init(device: String, actuator: String, state: ActuatorState, previous: ActuatorState?, at: Date, assumed: Bool) {
        self.device = device
        self.actuator = actuator
        self.state = state
        self.previous = previous
        self.at = at
        self.assumed = assumed
    }
}

/// Why a rule fired or did not, for `homerules why` and the event log.
public struct RuleTrace: Sendable, Hashable, Codable {
    /// What the rule did with the input.
    public enum Decision: String, Sendable, Hashable, Codable {
        /// The rule ran its `then` actions (or started to).
        case fired
        /// The rule ran its `otherwise` actions.
        case otherwise
        /// The trigger holds; the rule fires if it still holds after `for`.
        case waiting
        /// Mode `queued`: the run waits for the running one.
        case queued
        /// The rule did not fire; `reason` says why.
        case skipped
    }

    public var rule: String
    /// The index of the trigger in the rule's `when`, when one was involved.
    public var trigger: Int?
    public var decision: Decision
    /// For people: `temperature 27.5 is not above 28`, `held 12 s of 30 s`.
    public var reason: String

    public init(rule: String, trigger: Int?, decision: Decision, reason: String) {
        self.rule = rule
        self.trigger = trigger
        self.decision = decision
        self.reason = reason
    }
}

/// A message a rule wants published.
public struct Publication: Sendable, Hashable, Codable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int
    public var retain: Bool
    /// The rule whose action this is.
    public var rule: String
    /// The actuator commanded, for `set` and `toggle`.
    public var actuator: QualifiedName?

    public init(topic: String, payload: [UInt8], qos: Int, retain: Bool, rule: String, actuator: QualifiedName?) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.rule = rule
        self.actuator = actuator
    }

    /// The payload as UTF-8 text.
    public var text: String { String(decoding: payload, as: UTF8.self) }
}

/// A message that changed nothing: a payload that does not read, or a
/// stale retained copy.
public struct IgnoredMessage: Sendable, Hashable, Codable {
    public var topic: String
    public var reason: String

    public init(topic: String, reason: String) {
        self.topic = topic
        self.reason = reason
    }
}

/// An error the daemon should log as one: a rule suspended by the loop
/// guard, a full queue, a template that rendered an invalid topic.
public struct Problem: Sendable, Hashable, Codable {
    /// The rule at fault, when there is one.
    public var rule: String?
    public var message: String

    public init(rule: String?, message: String) {
        self.rule = rule
        self.message = message
    }
}
