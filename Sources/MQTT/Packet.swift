import NIOCore

/// One MQTT control packet.
///
/// Every case carries a struct, even where MQTT 3.1.1 has no fields, so that
/// MQTT 5's reason codes and properties become new fields rather than a new
/// shape.
public enum Packet: Sendable, Hashable {
    case connect(ConnectPacket)
    case connack(ConnAckPacket)
    case publish(PublishPacket)
    case puback(AckPacket)
    case pubrec(AckPacket)
    case pubrel(AckPacket)
    case pubcomp(AckPacket)
    case subscribe(SubscribePacket)
    case suback(SubAckPacket)
    case unsubscribe(UnsubscribePacket)
    case unsuback(AckPacket)
    case pingreq
    case pingresp
    case disconnect(DisconnectPacket)
    /// MQTT 5 only: a step of extended authentication.
    case auth(AuthPacket)

    /// The packet's type, as its fixed header names it.
    public var type: PacketType {
        switch self {
        case .connect: .connect
        case .connack: .connack
        case .publish: .publish
        case .puback: .puback
        case .pubrec: .pubrec
        case .pubrel: .pubrel
        case .pubcomp: .pubcomp
        case .subscribe: .subscribe
        case .suback: .suback
        case .unsubscribe: .unsubscribe
        case .unsuback: .unsuback
        case .pingreq: .pingreq
        case .pingresp: .pingresp
        case .disconnect: .disconnect
        case .auth: .auth
        }
    }
}

/// The four-bit packet type in the first byte of every packet.
public enum PacketType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp
    case subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect
    /// MQTT 5 only; reserved in 3.1.1.
    case auth

    /// The flag bits that MQTT 3.1.1 §2.2.2 (and MQTT 5 §2.1.3, for AUTH
    /// too) fixes for this type; nil for PUBLISH, whose flags carry DUP, QoS
    /// and RETAIN. (MQTT 3.1 fixes none for CONNECT; see
    /// `ConnectPacket.decode`.)
    var requiredFlags: UInt8? {
        switch self {
        case .publish: nil
        case .pubrel, .subscribe, .unsubscribe: 0b0010
        default: 0
        }
    }

    public var description: String {
        switch self {
        case .connect: "CONNECT"
        case .connack: "CONNACK"
        case .publish: "PUBLISH"
        case .puback: "PUBACK"
        case .pubrec: "PUBREC"
        case .pubrel: "PUBREL"
        case .pubcomp: "PUBCOMP"
        case .subscribe: "SUBSCRIBE"
        case .suback: "SUBACK"
        case .unsubscribe: "UNSUBSCRIBE"
        case .unsuback: "UNSUBACK"
        case .pingreq: "PINGREQ"
        case .pingresp: "PINGRESP"
        case .disconnect: "DISCONNECT"
        case .auth: "AUTH"
        }
    }
}

/// The message a broker publishes for a client that vanishes without
/// DISCONNECT.
public struct Will: Sendable, Hashable {
    public var topic: String
    public var payload: ByteBuffer
    public var qos: QoS
    public var retain: Bool
    /// MQTT 5: the will properties (will delay, message expiry, content
    /// type...).
    public var properties: Properties

    public init(
        topic: String, payload: ByteBuffer, qos: QoS = .atMostOnce, retain: Bool = false,
        properties: Properties = Properties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// CONNECT: the first packet of every connection.
public struct ConnectPacket: Sendable, Hashable {
    public var protocolVersion: ProtocolVersion
    public var clientID: String
    /// Clean Session in MQTT 3.1.1; the same bit is Clean Start in MQTT 5,
    /// where the session's lifetime is the session expiry interval.
    public var cleanSession: Bool
    /// Seconds; 0 turns keepalive off.
    public var keepAlive: UInt16
    public var will: Will?
    public var username: String?
    /// MQTT 5 allows a password without a user name; 3.1.1 does not.
    public var password: ByteBuffer?
    /// MQTT 5 only.
    public var properties: Properties

    public init(
        protocolVersion: ProtocolVersion = .v3_1_1,
        clientID: String,
        cleanSession: Bool = true,
        keepAlive: UInt16 = 60,
        will: Will? = nil,
        username: String? = nil,
        password: ByteBuffer? = nil,
        properties: Properties = Properties()
    ) {
        self.protocolVersion = protocolVersion
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAlive = keepAlive
        self.will = will
        self.username = username
        self.password = password
        self.properties = properties
    }
}

/// CONNACK: the server's answer to CONNECT.
public struct ConnAckPacket: Sendable, Hashable {
    public var sessionPresent: Bool
    /// The 3.1.1 return code, or in MQTT 5 the reason code's byte (see
    /// `reasonCode`).
    public var returnCode: ConnectReturnCode
    /// MQTT 5 only.
    public var properties: Properties

    public init(sessionPresent: Bool = false, returnCode: ConnectReturnCode, properties: Properties = Properties()) {
        self.sessionPresent = sessionPresent
        self.returnCode = returnCode
        self.properties = properties
    }

    /// An MQTT 5 CONNACK.
    public init(sessionPresent: Bool = false, reasonCode: MQTTReasonCode, properties: Properties = Properties()) {
        self.init(sessionPresent: sessionPresent, returnCode: ConnectReturnCode(rawValue: reasonCode.rawValue), properties: properties)
    }

    /// The return code read as an MQTT 5 reason code: the same byte.
    public var reasonCode: MQTTReasonCode {
        get { MQTTReasonCode(rawValue: returnCode.rawValue) }
        set { returnCode = ConnectReturnCode(rawValue: newValue.rawValue) }
    }
}

/// PUBLISH: an application message on its way, in either direction.
public struct PublishPacket: Sendable, Hashable {
    public var topic: String
    public var payload: ByteBuffer
    public var qos: QoS
    public var retain: Bool
    public var dup: Bool
    /// The packet identifier; 0 for QoS 0, which carries none (the encoder
    /// writes none at QoS 0, whatever this holds).
    public var packetID: UInt16
    /// MQTT 5 only. With a topic alias, the topic may be empty.
    public var properties: Properties

    public init(
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        dup: Bool = false,
        packetID: UInt16 = 0,
        properties: Properties = Properties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.dup = dup
        self.packetID = packetID
        self.properties = properties
    }
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: a packet identifier, and
/// in MQTT 5 a reason code and properties.
///
/// The publish acknowledgements carry one reason code (`reasonCode`);
/// UNSUBACK carries one per filter (`reasonCodes`). The field that the
/// packet's type does not use stays at its default. In MQTT 3.1.1 both do.
public struct AckPacket: Sendable, Hashable {
    public var packetID: UInt16
    /// MQTT 5, PUBACK, PUBREC, PUBREL and PUBCOMP.
    public var reasonCode: MQTTReasonCode
    /// MQTT 5, UNSUBACK: one per filter of the UNSUBSCRIBE, in its order.
    public var reasonCodes: [MQTTReasonCode]
    /// MQTT 5 only.
    public var properties: Properties

    public init(
        packetID: UInt16, reasonCode: MQTTReasonCode = .success, reasonCodes: [MQTTReasonCode] = [],
        properties: Properties = Properties()
    ) {
        self.packetID = packetID
        self.reasonCode = reasonCode
        self.reasonCodes = reasonCodes
        self.properties = properties
    }
}

/// One topic filter and the highest QoS asked for it, with MQTT 5's
/// subscription options.
public struct TopicSubscription: Sendable, Hashable {
    public var filter: String
    public var qos: QoS
    /// MQTT 5: messages the client publishes itself are not sent back to it.
    public var noLocal: Bool
    /// MQTT 5: forwarded messages keep the RETAIN flag they were published with.
    public var retainAsPublished: Bool
    /// MQTT 5: when retained messages are sent on subscribing.
    public var retainHandling: RetainHandling

    public init(
        filter: String, qos: QoS, noLocal: Bool = false, retainAsPublished: Bool = false,
        retainHandling: RetainHandling = .sendOnSubscribe
    ) {
        self.filter = filter
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }
}

/// The Retain Handling subscription option of MQTT 5 (§3.8.3.1).
public enum RetainHandling: UInt8, Sendable, Hashable {
    /// Send retained messages at the time of the subscribe; what 3.1.1 does.
    case sendOnSubscribe = 0
    /// Send them only if the subscription did not exist already.
    case sendOnNewSubscription = 1
    /// Do not send them.
    case doNotSend = 2
}

/// SUBSCRIBE. Filters are kept as the client sent them: a syntactically
/// invalid filter is the broker's to refuse (SUBACK 0x80), not the codec's.
public struct SubscribePacket: Sendable, Hashable {
    public var packetID: UInt16
    public var subscriptions: [TopicSubscription]
    /// MQTT 5 only.
    public var properties: Properties
    public init(packetID: UInt16, subscriptions: [TopicSubscription], properties: Properties = Properties()) {
        self.packetID = packetID
        self.subscriptions = subscriptions
        self.properties = properties
    }
}

/// SUBACK: one return code per filter, in the order of the SUBSCRIBE. In
/// MQTT 5 each is a reason code's byte (`SubscribeReturnCode.reasonCode`).
public struct SubAckPacket: Sendable, Hashable {
    public var packetID: UInt16
    public var returnCodes: [SubscribeReturnCode]
    /// MQTT 5 only.
    public var properties: Properties
    public init(packetID: UInt16, returnCodes: [SubscribeReturnCode], properties: Properties = Properties()) {
        self.packetID = packetID
        self.returnCodes = returnCodes
        self.properties = properties
    }
}

/// UNSUBSCRIBE.
public struct UnsubscribePacket: Sendable, Hashable {
    public var packetID: UInt16
    public var filters: [String]
    /// MQTT 5 only.
    public var properties: Properties
    public init(packetID: UInt16, filters: [String], properties: Properties = Properties()) {
        self.packetID = packetID
        self.filters = filters
        self.properties = properties
    }
}

/// DISCONNECT: the client leaves cleanly, and its will is discarded. Empty
/// in MQTT 3.1.1; in MQTT 5 either side sends it, with a reason code (0x04
/// keeps the will) and properties.
public struct DisconnectPacket: Sendable, Hashable {
    /// MQTT 5 only.
    public var reasonCode: MQTTReasonCode
    /// MQTT 5 only.
    public var properties: Properties
    public init(reasonCode: MQTTReasonCode = .normalDisconnection, properties: Properties = Properties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}

/// AUTH (MQTT 5 only): one step of extended authentication, its method and
/// data in the properties.
public struct AuthPacket: Sendable, Hashable {
    public var reasonCode: MQTTReasonCode
    public var properties: Properties
    public init(reasonCode: MQTTReasonCode = .success, properties: Properties = Properties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}
