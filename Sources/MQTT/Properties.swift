import NIOCore

/// The properties of an MQTT 5 packet or will (§2.2.2.2): every property the
/// specification defines, each as a typed field of `Values`, nil (or empty)
/// when absent, read and written as if it were the struct's own
/// (`properties.topicAlias = 3`).
///
/// Which properties a packet may carry is checked when it is decoded and
/// when it is encoded (`PropertyIdentifier.isAllowed(in:)`); they are
/// written in ascending order of identifier, the repeatable ones in the
/// order of their arrays. MQTT 3.1.1 packets have no properties: their
/// `Properties` stay empty.
///
/// The values live in copy-on-write storage, allocated only once one is set:
/// most packets carry none, and every packet carries a `Properties`, so it
/// takes a pointer rather than the 240 bytes of `Values`.
@dynamicMemberLookup
public struct Properties: Sendable, Hashable {
    /// Every property, typed.
    public struct Values: Sendable, Hashable {
        /// 0x01, PUBLISH and will: whether the payload is UTF-8 text.
        public var payloadFormatIndicator: PayloadFormat?
        /// 0x02, PUBLISH and will: seconds the message may wait for delivery.
        public var messageExpiryInterval: UInt32?
        /// 0x03, PUBLISH and will: the payload's MIME type, or any string.
        public var contentType: String?
        /// 0x08, PUBLISH and will: the topic of the answer asked for.
        public var responseTopic: String?
        /// 0x09, PUBLISH and will: matches an answer to its request.
        public var correlationData: ByteBuffer?
        /// 0x0B: at most one on SUBSCRIBE; on PUBLISH, one per subscription
        /// that matched. Each from 1 to 268,435,455.
        public var subscriptionIdentifiers: [Int]
        /// 0x11, CONNECT, CONNACK and DISCONNECT: seconds the session outlives
        /// the connection; 0xFFFFFFFF is for ever.
        public var sessionExpiryInterval: UInt32?
        /// 0x12, CONNACK: the client identifier the server chose.
        public var assignedClientIdentifier: String?
        /// 0x13, CONNACK: the keep alive the server imposes, in seconds.
        public var serverKeepAlive: UInt16?
        /// 0x15, CONNECT, CONNACK and AUTH: the extended authentication method.
        public var authenticationMethod: String?
        /// 0x16, CONNECT, CONNACK and AUTH: only with an authentication method.
        public var authenticationData: ByteBuffer?
        /// 0x17, CONNECT: whether the server may send reason strings and user
        /// properties on failures.
        public var requestProblemInformation: Bool?
        /// 0x18, will: seconds the server waits before publishing the will.
        public var willDelayInterval: UInt32?
        /// 0x19, CONNECT: whether the client asks for response information.
        public var requestResponseInformation: Bool?
        /// 0x1A, CONNACK: the basis of response topics.
        public var responseInformation: String?
        /// 0x1C, CONNACK and DISCONNECT: another server to use.
        public var serverReference: String?
        /// 0x1F, every acknowledgement, DISCONNECT and AUTH: a diagnostic for humans.
        public var reasonString: String?
        /// 0x21, CONNECT and CONNACK: QoS 1 and 2 messages in flight at once; not 0.
        public var receiveMaximum: UInt16?
        /// 0x22, CONNECT and CONNACK: the highest topic alias accepted.
        public var topicAliasMaximum: UInt16?
        /// 0x23, PUBLISH: stands for the topic name; not 0.
        public var topicAlias: UInt16?
        /// 0x24, CONNACK: the highest QoS the server supports, 0 or 1 (absent is 2).
        public var maximumQoS: QoS?
        /// 0x25, CONNACK: whether the server keeps retained messages.
        public var retainAvailable: Bool?
        /// 0x26, every packet with properties and the will: name and value
        /// pairs, in order; a name may repeat.
        public var userProperties: [UserProperty]
        /// 0x27, CONNECT and CONNACK: the largest packet accepted; not 0.
        public var maximumPacketSize: UInt32?
        /// 0x28, CONNACK: whether the server supports wildcard subscriptions.
        public var wildcardSubscriptionAvailable: Bool?
        /// 0x29, CONNACK: whether the server supports subscription identifiers.
        public var subscriptionIdentifierAvailable: Bool?
        /// 0x2A, CONNACK: whether the server supports shared subscriptions.
        public var sharedSubscriptionAvailable: Bool?

        /// No properties.
        public init() {
            subscriptionIdentifiers = []
            userProperties = []
        }

        static let none = Values()
    }

    private final class Storage: @unchecked Sendable {
        // Mutated only through `Properties`, and only when uniquely referenced.
        var values: Values
        init(_ values: Values) { self.values = values }
    }

    /// nil while no property has been set.
    private var storage: Storage?

    /// No properties.
    public init() {}

    init(_ values: Values) {
        storage = values == .none ? nil : Storage(values)
    }

    /// All the values at once.
    public var values: Values {
        get { storage?.values ?? .none }
        set { self = Properties(newValue) }
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<Values, Value>) -> Value {
        get { (storage?.values ?? .none)[keyPath: keyPath] }
        set {
            if storage == nil {
                storage = Storage(.none)
            } else if !isKnownUniquelyReferenced(&storage) {
                storage = Storage(values)
            }
            storage!.values[keyPath: keyPath] = newValue
        }
    }

    /// Whether no property is set: what a packet without properties has.
    /// Most packets have no storage at all, and say so without comparing
    /// the 27 fields.
    public var isEmpty: Bool {
        guard let storage else { return true }
        return storage.values == .none
    }

    public static func == (lhs: Properties, rhs: Properties) -> Bool {
        lhs.storage === rhs.storage || lhs.values == rhs.values
    }

    public func hash(into hasher: inout Hasher) {
        values.hash(into: &hasher)
    }
}

extension Properties: CustomStringConvertible, CustomDebugStringConvertible {
    /// The properties that are set, by name.
    public var description: String {
        "[" + entries.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "]"
    }

    public var debugDescription: String { description }
}

/// A user property (0x26): a name and a value, both UTF-8 strings.
public struct UserProperty: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// What the payload format indicator (0x01) says of a payload.
public enum PayloadFormat: UInt8, Sendable, Hashable {
    /// Bytes of no particular format; what an absent indicator means too.
    case unspecified = 0
    /// UTF-8 text.
    case utf8 = 1
}

/// The identifier of a property (§2.2.2.2).
public enum PropertyIdentifier: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case payloadFormatIndicator = 0x01
    case messageExpiryInterval = 0x02
    case contentType = 0x03
    case responseTopic = 0x08
    case correlationData = 0x09
    case subscriptionIdentifier = 0x0B
    case sessionExpiryInterval = 0x11
    case assignedClientIdentifier = 0x12
    case serverKeepAlive = 0x13
    case authenticationMethod = 0x15
    case authenticationData = 0x16
    case requestProblemInformation = 0x17
    case willDelayInterval = 0x18
    case requestResponseInformation = 0x19
    case responseInformation = 0x1A
    case serverReference = 0x1C
    case reasonString = 0x1F
    case receiveMaximum = 0x21
    case topicAliasMaximum = 0x22
    case topicAlias = 0x23
    case maximumQoS = 0x24
    case retainAvailable = 0x25
    case userProperty = 0x26
    case maximumPacketSize = 0x27
    case wildcardSubscriptionAvailable = 0x28
    case subscriptionIdentifierAvailable = 0x29
    case sharedSubscriptionAvailable = 0x2A

    public var description: String {
        "\(self.name) (0x\(String(rawValue, radix: 16, uppercase: true)))"
    }

    private var name: String {
        switch self {
        case .payloadFormatIndicator: "Payload Format Indicator"
        case .messageExpiryInterval: "Message Expiry Interval"
        case .contentType: "Content Type"
        case .responseTopic: "Response Topic"
        case .correlationData: "Correlation Data"
        case .subscriptionIdentifier: "Subscription Identifier"
        case .sessionExpiryInterval: "Session Expiry Interval"
        case .assignedClientIdentifier: "Assigned Client Identifier"
        case .serverKeepAlive: "Server Keep Alive"
        case .authenticationMethod: "Authentication Method"
        case .authenticationData: "Authentication Data"
        case .requestProblemInformation: "Request Problem Information"
        case .willDelayInterval: "Will Delay Interval"
        case .requestResponseInformation: "Request Response Information"
        case .responseInformation: "Response Information"
        case .serverReference: "Server Reference"
        case .reasonString: "Reason String"
        case .receiveMaximum: "Receive Maximum"
        case .topicAliasMaximum: "Topic Alias Maximum"
        case .topicAlias: "Topic Alias"
        case .maximumQoS: "Maximum QoS"
        case .retainAvailable: "Retain Available"
        case .userProperty: "User Property"
        case .maximumPacketSize: "Maximum Packet Size"
        case .wildcardSubscriptionAvailable: "Wildcard Subscription Available"
        case .subscriptionIdentifierAvailable: "Subscription Identifier Available"
        case .sharedSubscriptionAvailable: "Shared Subscription Available"
        }
    }
}

/// Where properties are read or written: a packet, or the will inside a
/// CONNECT, whose properties differ from the CONNECT's own.
public enum PropertyPlace: Sendable, Hashable {
    case packet(PacketType)
    case will

    /// The packet that errors name: CONNECT for the will.
    var packetType: PacketType {
        switch self {
        case .packet(let type): type
        case .will: .connect
        }
    }
}

extension PropertyIdentifier {
    /// Whether §2.2.2.2 lets the property appear in `place`.
    public func isAllowed(in place: PropertyPlace) -> Bool {
        switch self {
        case .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic, .correlationData:
            return place == .packet(.publish) || place == .will
        case .willDelayInterval:
            return place == .will
        case .userProperty:
            return place == .will || [.pingreq, .pingresp].contains(place.packetType) == false
        default:
            guard case .packet(let type) = place else { return false }
            return packetTypes.contains(type)
        }
    }

    /// The packets of a property that the will cannot carry.
    private var packetTypes: Set<PacketType> {
        switch self {
        case .subscriptionIdentifier: [.publish, .subscribe]
        case .sessionExpiryInterval: [.connect, .connack, .disconnect]
        case .authenticationMethod, .authenticationData: [.connect, .connack, .auth]
        case .requestProblemInformation, .requestResponseInformation: [.connect]
        case .serverReference: [.connack, .disconnect]
        case .reasonString: [.connack, .puback, .pubrec, .pubrel, .pubcomp, .suback, .unsuback, .disconnect, .auth]
        case .receiveMaximum, .topicAliasMaximum, .maximumPacketSize: [.connect, .connack]
        case .topicAlias: [.publish]
        case .assignedClientIdentifier, .serverKeepAlive, .responseInformation, .maximumQoS, .retainAvailable,
             .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable, .sharedSubscriptionAvailable:
            [.connack]
        case .payloadFormatIndicator, .messageExpiryInterval, .contentType, .responseTopic, .correlationData,
             .willDelayInterval, .userProperty:
            []
        }
    }

    /// Whether the property may appear more than once in `place`.
    func isRepeatable(in place: PropertyPlace) -> Bool {
        self == .userProperty || (self == .subscriptionIdentifier && place == .packet(.publish))
    }
}
