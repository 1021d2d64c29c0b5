/// The delivery guarantee of a message, as MQTT names it.
public enum QoS: UInt8, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// QoS 0: fire and forget.
    case atMostOnce = 0
    /// QoS 1: acknowledged with PUBACK; may arrive twice.
    case atLeastOnce = 1
    /// QoS 2: the four-packet exchange; arrives exactly once.
    case exactlyOnce = 2

    public static func < (lhs: QoS, rhs: QoS) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "QoS \(rawValue)" }
}

/// The protocol revision a connection speaks, fixed by its CONNECT packet.
public enum ProtocolVersion: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// MQTT 3.1: protocol name `MQIsdp`, level 3.
    case v3_1 = 3
    /// MQTT 3.1.1: protocol name `MQTT`, level 4.
    case v3_1_1 = 4
    /// MQTT 5.0: protocol name `MQTT`, level 5. Its packets carry reason
    /// codes and properties, so their bodies differ from 3.1.1's after CONNECT.
    case v5 = 5

    /// The protocol name that a CONNECT of this revision carries.
    public var protocolName: String {
        switch self {
        case .v3_1: "MQIsdp"
        case .v3_1_1, .v5: "MQTT"
        }
    }

    public var description: String {
        switch self {
        case .v3_1: "MQTT 3.1"
        case .v3_1_1: "MQTT 3.1.1"
        case .v5: "MQTT 5.0"
        }
    }
}

extension ProtocolVersion {
    /// Reads a version as people write it: `5`, `3.1.1` or `3.1`, or as
    /// mosquitto_pub's `-V` takes it (`mqttv5`, `mqttv311`, `mqttv31`, `311`, `31`).
    public init?(name: String) {
        switch name.lowercased() {
        case "5", "5.0", "mqttv5", "mqttv50": self = .v5
        case "3.1.1", "311", "mqttv311": self = .v3_1_1
        case "3.1", "31", "mqttv31": self = .v3_1
        default: return nil
        }
    }

    /// The names `init(name:)` takes first, for messages.
    public static let names = "5, 3.1.1 or 3.1"
}
