/// The result a CONNACK carries.
///
/// A struct over the raw byte rather than an enum, so that MQTT 5's reason
/// codes (0x80 and up) fit in the same type later.
public struct ConnectReturnCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let accepted = ConnectReturnCode(rawValue: 0x00)
    public static let unacceptableProtocolVersion = ConnectReturnCode(rawValue: 0x01)
    public static let identifierRejected = ConnectReturnCode(rawValue: 0x02)
    public static let serverUnavailable = ConnectReturnCode(rawValue: 0x03)
    public static let badUsernameOrPassword = ConnectReturnCode(rawValue: 0x04)
    public static let notAuthorized = ConnectReturnCode(rawValue: 0x05)

    public var description: String {
        switch self {
        case .accepted: "accepted"
        case .unacceptableProtocolVersion: "unacceptable protocol version"
        case .identifierRejected: "identifier rejected"
        case .serverUnavailable: "server unavailable"
        case .badUsernameOrPassword: "bad user name or password"
        case .notAuthorized: "not authorized"
        default: "return code 0x\(String(rawValue, radix: 16))"
        }
    }
}

/// One entry of a SUBACK: the granted QoS, or failure.
public struct SubscribeReturnCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public init(granted qos: QoS) { self.rawValue = qos.rawValue }

    public static let failure = SubscribeReturnCode(rawValue: 0x80)

    /// The granted QoS, or nil when the subscription failed.
    public var grantedQoS: QoS? { QoS(rawValue: rawValue) }

    /// An MQTT 5 SUBACK entry.
    public init(_ reasonCode: MQTTReasonCode) { self.rawValue = reasonCode.rawValue }

    /// The entry read as an MQTT 5 reason code: the same byte.
    public var reasonCode: MQTTReasonCode { MQTTReasonCode(rawValue: rawValue) }

    public var description: String {
        grantedQoS.map { "granted \($0)" } ?? "failure 0x\(String(rawValue, radix: 16))"
    }
}

extension ConnectReturnCode {
    /// The MQTT 5 reason code that says the same (§3.2.2.2 beside
    /// §3.2.2.3 of 3.1.1), for a refusal decided in 3.1.1's terms.
    public var mqtt5ReasonCode: MQTTReasonCode {
        switch self {
        case .accepted: .success
        case .unacceptableProtocolVersion: .unsupportedProtocolVersion
        case .identifierRejected: .clientIdentifierNotValid
        case .serverUnavailable: .serverUnavailable
        case .badUsernameOrPassword: .badUserNameOrPassword
        case .notAuthorized: .notAuthorized
        default: .unspecifiedError
        }
    }
}
