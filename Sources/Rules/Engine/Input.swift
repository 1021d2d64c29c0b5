/// A number the caller gives each input, copied into every output it causes
/// so that logs can follow cause chains. Any increasing sequence does.
public typealias InputID = UInt64

/// What the engine reacts to.
public enum Input: Sendable, Hashable, Codable {
    /// A message the daemon received on one of `Home.topics`.
    case message(IncomingMessage)
    /// The clock moved on: send one at `Engine.nextDeadline`. Every input
    /// runs the timers that are due first, so a late tick loses nothing.
    case tick
    /// Someone asked for a rule's actions now (`homerules rules run`): they
    /// run as a firing whose reason says so, whatever the triggers and
    /// conditions, still under the loop guard.
    case runByHand(rule: String, by: String)
}

/// An MQTT message as the engine needs it.
public struct IncomingMessage: Sendable, Hashable, Codable {
    public var topic: String
    public var payload: [UInt8]
    /// Whether the broker delivered a stored retained copy rather than a
    /// live publication.
    public var retained: Bool

    public init(topic: String, payload: [UInt8], retained: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.retained = retained
    }

    public init(topic: String, text: String, retained: Bool = false) {
        self.init(topic: topic, payload: Array(text.utf8), retained: retained)
    }

    /// The payload as UTF-8 text, invalid bytes replaced.
    public var text: String { String(decoding: payload, as: UTF8.self) }
}
