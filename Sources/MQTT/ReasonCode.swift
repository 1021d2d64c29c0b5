/// The one-byte result of an MQTT 5 operation (§2.4): what CONNACK, the
/// publish acknowledgements, SUBACK, UNSUBACK, DISCONNECT and AUTH carry.
///
/// A struct over the raw byte rather than an enum: the specification gives
/// one value several names (0x00 is Success, Normal disconnection and Granted
/// QoS 0), and which values a packet may carry depends on the packet
/// (`isAllowed(in:)`). Values of 0x80 and above are errors.
public struct MQTTReasonCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let success = MQTTReasonCode(rawValue: 0x00)
    public static let normalDisconnection = MQTTReasonCode(rawValue: 0x00)
    public static let grantedQoS0 = MQTTReasonCode(rawValue: 0x00)
    public static let grantedQoS1 = MQTTReasonCode(rawValue: 0x01)
    public static let grantedQoS2 = MQTTReasonCode(rawValue: 0x02)
    public static let disconnectWithWillMessage = MQTTReasonCode(rawValue: 0x04)
    public static let noMatchingSubscribers = MQTTReasonCode(rawValue: 0x10)
    public static let noSubscriptionExisted = MQTTReasonCode(rawValue: 0x11)
    public static let continueAuthentication = MQTTReasonCode(rawValue: 0x18)
    public static let reAuthenticate = MQTTReasonCode(rawValue: 0x19)
    public static let unspecifiedError = MQTTReasonCode(rawValue: 0x80)
    public static let malformedPacket = MQTTReasonCode(rawValue: 0x81)
    public static let protocolError = MQTTReasonCode(rawValue: 0x82)
    public static let implementationSpecificError = MQTTReasonCode(rawValue: 0x83)
    public static let unsupportedProtocolVersion = MQTTReasonCode(rawValue: 0x84)
    public static let clientIdentifierNotValid = MQTTReasonCode(rawValue: 0x85)
    public static let badUserNameOrPassword = MQTTReasonCode(rawValue: 0x86)
    public static let notAuthorized = MQTTReasonCode(rawValue: 0x87)
    public static let serverUnavailable = MQTTReasonCode(rawValue: 0x88)
    public static let serverBusy = MQTTReasonCode(rawValue: 0x89)
    public static let banned = MQTTReasonCode(rawValue: 0x8A)
    public static let serverShuttingDown = MQTTReasonCode(rawValue: 0x8B)
    public static let badAuthenticationMethod = MQTTReasonCode(rawValue: 0x8C)
    public static let keepAliveTimeout = MQTTReasonCode(rawValue: 0x8D)
    public static let sessionTakenOver = MQTTReasonCode(rawValue: 0x8E)
    public static let topicFilterInvalid = MQTTReasonCode(rawValue: 0x8F)
    public static let topicNameInvalid = MQTTReasonCode(rawValue: 0x90)
    public static let packetIdentifierInUse = MQTTReasonCode(rawValue: 0x91)
    public static let packetIdentifierNotFound = MQTTReasonCode(rawValue: 0x92)
    public static let receiveMaximumExceeded = MQTTReasonCode(rawValue: 0x93)
    public static let topicAliasInvalid = MQTTReasonCode(rawValue: 0x94)
    public static let packetTooLarge = MQTTReasonCode(rawValue: 0x95)
    public static let messageRateTooHigh = MQTTReasonCode(rawValue: 0x96)
    public static let quotaExceeded = MQTTReasonCode(rawValue: 0x97)
    public static let administrativeAction = MQTTReasonCode(rawValue: 0x98)
    public static let payloadFormatInvalid = MQTTReasonCode(rawValue: 0x99)
    public static let retainNotSupported = MQTTReasonCode(rawValue: 0x9A)
    public static let qosNotSupported = MQTTReasonCode(rawValue: 0x9B)
    public static let useAnotherServer = MQTTReasonCode(rawValue: 0x9C)
    public static let serverMoved = MQTTReasonCode(rawValue: 0x9D)
    public static let sharedSubscriptionsNotSupported = MQTTReasonCode(rawValue: 0x9E)
    public static let connectionRateExceeded = MQTTReasonCode(rawValue: 0x9F)
    public static let maximumConnectTime = MQTTReasonCode(rawValue: 0xA0)
    public static let subscriptionIdentifiersNotSupported = MQTTReasonCode(rawValue: 0xA1)
    public static let wildcardSubscriptionsNotSupported = MQTTReasonCode(rawValue: 0xA2)

    /// Whether the code reports a failure: every value from 0x80 up.
    public var isError: Bool { rawValue >= 0x80 }

    /// The specification's name; for 0x00, the name it has in most packets.
    public var name: String? { Self.names[rawValue] }

    public var description: String {
        name.map { "\($0) (0x\(hexDigits))" } ?? "reason code 0x\(hexDigits)"
    }

    private var hexDigits: String {
        let digits = String(rawValue, radix: 16, uppercase: true)
        return rawValue < 0x10 ? "0" + digits : digits
    }

    private static let names: [UInt8: String] = [
        0x00: "Success", 0x01: "Granted QoS 1", 0x02: "Granted QoS 2", 0x04: "Disconnect with Will Message",
        0x10: "No matching subscribers", 0x11: "No subscription existed", 0x18: "Continue authentication",
        0x19: "Re-authenticate", 0x80: "Unspecified error", 0x81: "Malformed Packet", 0x82: "Protocol Error",
        0x83: "Implementation specific error", 0x84: "Unsupported Protocol Version",
        0x85: "Client Identifier not valid", 0x86: "Bad User Name or Password", 0x87: "Not authorized",
        0x88: "Server unavailable", 0x89: "Server busy", 0x8A: "Banned", 0x8B: "Server shutting down",
        0x8C: "Bad authentication method", 0x8D: "Keep Alive timeout", 0x8E: "Session taken over",
        0x8F: "Topic Filter invalid", 0x90: "Topic Name invalid", 0x91: "Packet Identifier in use",
        0x92: "Packet Identifier not found", 0x93: "Receive Maximum exceeded", 0x94: "Topic Alias invalid",
        0x95: "Packet too large", 0x96: "Message rate too high", 0x97: "Quota exceeded",
        0x98: "Administrative action", 0x99: "Payload format invalid", 0x9A: "Retain not supported",
        0x9B: "QoS not supported", 0x9C: "Use another server", 0x9D: "Server moved",
        0x9E: "Shared Subscriptions not supported", 0x9F: "Connection rate exceeded",
        0xA0: "Maximum connect time", 0xA1: "Subscription Identifiers not supported",
        0xA2: "Wildcard Subscriptions not supported",
    ]
}

extension MQTTReasonCode {
    /// Whether §2.4 lets a packet of `type` carry this code. A receiver
    /// refuses any other as a Protocol Error.
    public func isAllowed(in type: PacketType) -> Bool {
        Self.allowed(in: type).contains(rawValue)
    }

    private static func allowed(in type: PacketType) -> Set<UInt8> {
        switch type {
        case .connack: connAckCodes
        case .puback, .pubrec: publishAckCodes
        case .pubrel, .pubcomp: [0x00, 0x92]
        case .suback: subAckCodes
        case .unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91]
        case .disconnect: disconnectCodes
        case .auth: [0x00, 0x18, 0x19]
        case .connect, .publish, .subscribe, .unsubscribe, .pingreq, .pingresp: []
        }
    }

    private static let connAckCodes: Set<UInt8> = [
        0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99,
        0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
    ]
    private static let publishAckCodes: Set<UInt8> = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]
    private static let subAckCodes: Set<UInt8> = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2]
    private static let disconnectCodes: Set<UInt8> = [
        0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96,
        0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
    ]
}
