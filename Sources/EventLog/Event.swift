import Foundation
import GRDB

/// What happened, as the event log records it.
public enum EventKind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// A message on a device's or a rule's topic.
    case message
    /// A device came online, went offline, or changed its presence state.
    case presence
    /// A rule's trigger and conditions held, and its actions ran.
    case ruleFired = "rule_fired"
    /// A rule's trigger stopped holding, and its `otherwise` actions ran.
    case ruleOtherwise = "rule_otherwise"
    /// A rule was considered and did not fire; `detail` says why.
    case ruleSkipped = "rule_skipped"
    /// The daemon published a command or a message.
    case action
    /// Something went wrong; `detail` says what.
    case error
    /// Devices and rules were reloaded (or a reload was refused).
    case reload
}

/// One row of the event log.
///
/// Ids are assigned by `EventWriter` when the event is recorded, before it
/// reaches the database, so that the events it causes can point at it.
public struct Event: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "event"

    public var id: Int64
    public var time: Date
    public var kind: EventKind
    public var device: String?
    /// The sensor or actuator of `device` the event is about.
    public var entity: String?
    public var topic: String?
    /// The message payload, cut at `EventWriter.maximumPayloadLength`.
    public var payload: String?
    public var rule: String?
    /// A human-readable account: a rule's reason, an error's message.
    public var detail: String?
    /// The id of the event that caused this one.
    public var cause: Int64?

    public init(
        id: Int64 = 0, time: Date, kind: EventKind, device: String? = nil, entity: String? = nil,
        topic: String? = nil, payload: String? = nil, rule: String? = nil, detail: String? = nil, cause: Int64? = nil
    ) {
        self.id = id
        self.time = time
        self.kind = kind
        self.device = device
        self.entity = entity
        self.topic = topic
        self.payload = payload
        self.rule = rule
        self.detail = detail
        self.cause = cause
    }
}

extension Event {
    /// The event with its payload cut to `maximumLength` UTF-8 bytes, at a
    /// character boundary, with `…` to show the cut.
    public func truncatingPayload(to maximumLength: Int) -> Event {
        guard let payload, payload.utf8.count > maximumLength else { return self }
        var cut = payload.utf8.prefix(maximumLength)
        while !cut.isEmpty, String(cut) == nil { cut = cut.dropLast() }
        var event = self
        event.payload = (String(cut) ?? "") + "…"
        return event
    }
}

/// A device's presence and when it was last heard from.
public struct DeviceStateRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "deviceState"

    public var device: String
    /// `online`, `offline`, or a convention's own state (Homie's `sleeping`).
    public var presence: String?
    public var presenceSince: Date?
    public var lastSeen: Date?

    public init(device: String, presence: String? = nil, presenceSince: Date? = nil, lastSeen: Date? = nil) {
        self.device = device
        self.presence = presence
        self.presenceSince = presenceSince
        self.lastSeen = lastSeen
    }
}

/// The latest value of one sensor or state of one actuator.
public struct EntityStateRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "entityState"

    public enum Role: String, Codable, Sendable, DatabaseValueConvertible {
        case sensor, actuator
    }

    public var device: String
    public var entity: String
    public var role: Role
    public var value: String
    public var updatedAt: Date

    public init(device: String, entity: String, role: Role, value: String, updatedAt: Date) {
        self.device = device
        self.entity = entity
        self.role = role
        self.value = value
        self.updatedAt = updatedAt
    }
}
