import Foundation

/// How a device says whether it is online.
///
/// Either a topic whose payloads name the state (the last-will pattern: the
/// device sets a retained will of `offline` and publishes `online` once
/// connected), or silence: with `expireAfter`, a device that publishes
/// nothing on any of its topics for that long counts as offline.
public struct Presence: Sendable, Hashable, Codable {
    /// The status topic; nil when only `expireAfter` tells presence.
    public var topic: String?
    /// The preset the topic and payloads come from, if any.
    public var convention: PresenceConvention?
    /// Payload (lowercased, trimmed) to state.
    public var payloads: [String: PresenceState]
    /// Where the state sits in a JSON payload, such as `state` for Zigbee2MQTT.
    public var path: JSONPath?
    /// Offline after this long without any message on the device's topics.
    public var expireAfter: Duration?
    /// The MQTT keepalive the device connects with: after a restart, its
    /// restored presence waits one and a half times this for it.
    public var keepalive: Duration?

    public init(
        topic: String?, convention: PresenceConvention? = nil, payloads: [String: PresenceState],
        path: JSONPath? = nil, expireAfter: Duration? = nil, keepalive: Duration? = nil
    ) {
        self.topic = topic
        self.convention = convention
        self.payloads = Dictionary(payloads.map { (Self.normalized($0.key), $0.value) }) { first, _ in first }
        self.path = path
        self.expireAfter = expireAfter
        self.keepalive = keepalive
    }

    /// The state a payload on the presence topic announces, or nil when the
    /// payload means nothing known. Payloads compare ignoring case and
    /// surrounding spaces; a JSON payload is read at `path` when there is
    /// one, and as plain text otherwise.
    public func state(announcedBy payload: [UInt8]) -> PresenceState? {
        if let path, let document = JSONValue(payload: payload), let text = path.value(in: document)?.text {
            return payloads[Self.normalized(text)]
        }
        return payloads[Self.normalized(String(decoding: payload, as: UTF8.self))]
    }

    private static func normalized(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}

/// Whether a device is there.
public enum PresenceState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Nothing heard yet.
    case unknown
    case online
    case offline
    /// Homie's `sleeping`: away on purpose, values still valid.
    case sleeping
    /// Homie's `init`: starting up.
    case initializing = "init"
    /// Homie's `alert`: online but asking for attention.
    case alert

    public var description: String { rawValue }

    /// The states a rule can wait for with `goes` or test with `is`.
    static let namable = allCases.filter { $0 != .unknown }
}

