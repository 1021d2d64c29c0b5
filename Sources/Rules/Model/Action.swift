/// What a rule does (`then`, `otherwise`), in order.
public enum Action: Sendable, Hashable, Codable {
    /// Sends the actuator's on or off payload, or its value through its
    /// command template, to its command topic.
    case set(QualifiedName, to: ActuatorSetting)
    /// Sends the toggle payload, or the opposite of the known state.
    case toggle(QualifiedName)
    case publish(PublishAction)
    /// Sends an HTTP request; the daemon retries it and logs the answer.
    case http(HTTPAction)
    /// Waits before the next action.
    case delay(Duration)
}

/// `publish`: any topic and payload, with templates.
public struct PublishAction: Sendable, Hashable, Codable {
    public var topic: Template
    public var payload: Template
    public var qos: Int
    public var retain: Bool

    public init(topic: Template, payload: Template, qos: Int = 0, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}
