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
        }
    }
}

/// The four-bit packet type in the first byte of every packet.
public enum PacketType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp
    case subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect

    /// The flag bits that MQTT 3.1.1 §2.2.2 fixes for this type; nil for
    /// PUBLISH, whose flags carry DUP, QoS and RETAIN. (MQTT 3.1 fixes none
    /// for CONNECT; see `ConnectPacket.decode`.)
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

    public init(topic: String, payload: ByteBuffer, qos: QoS = .atMostOnce, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// CONNECT: the first packet of every connection.
public struct ConnectPacket: Sendable, Hashable {
    public var protocolVersion: ProtocolVersion
    public var clientID: String
    public var cleanSession: Bool
    /// Seconds; 0 turns keepalive off.
    public var keepAlive: UInt16
    public var will: Will?
    public var username: String?
    public var password: ByteBuffer?

    public init(
        protocolVersion: ProtocolVersion = .v3_1_1,
        clientID: String,
        cleanSession: Bool = true,
        keepAlive: UInt16 = 60,
        will: Will? = nil,
        username: String? = nil,
        password: ByteBuffer? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAlive = keepAlive
        self.will = will
        self.username = username
        self.password = password
    }
}

/// CONNACK: the server's answer to CONNECT.
public struct ConnAckPacket: Sendable, Hashable {
    public var sessionPresent: Bool
    public var returnCode: ConnectReturnCode

    public init(sessionPresent: Bool = false, returnCode: ConnectReturnCode) {
        self.sessionPresent = sessionPresent
        self.returnCode = returnCode
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

    public init(
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        dup: Bool = false,
        packetID: UInt16 = 0
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.dup = dup
        self.packetID = packetID
    }
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: a packet identifier only.
public struct AckPacket: Sendable, Hashable {
    public var packetID: UInt16
    public init(packetID: UInt16) { self.packetID = packetID }
}

/// One topic filter and the highest QoS asked for it.
public struct TopicSubscription: Sendable, Hashable {
    public var filter: String
    public var qos: QoS
    public init(filter: String, qos: QoS) {
        self.filter = filter
        self.qos = qos
    }
}

/// SUBSCRIBE. Filters are kept as the client sent them: a syntactically
/// invalid filter is the broker's to refuse (SUBACK 0x80), not the codec's.
public struct SubscribePacket: Sendable, Hashable {
    public var packetID: UInt16
    public var subscriptions: [TopicSubscription]
    public init(packetID: UInt16, subscriptions: [TopicSubscription]) {
        self.packetID = packetID
        self.subscriptions = subscriptions
    }
}

/// SUBACK: one return code per filter, in the order of the SUBSCRIBE.
public struct SubAckPacket: Sendable, Hashable {
    public var packetID: UInt16
    public var returnCodes: [SubscribeReturnCode]
    public init(packetID: UInt16, returnCodes: [SubscribeReturnCode]) {
        self.packetID = packetID
        self.returnCodes = returnCodes
    }
}

/// UNSUBSCRIBE.
public struct UnsubscribePacket: Sendable, Hashable {
    public var packetID: UInt16
    public var filters: [String]
    public init(packetID: UInt16, filters: [String]) {
        self.packetID = packetID
        self.filters = filters
    }
}

/// DISCONNECT: the client leaves cleanly, and its will is discarded.
/// Empty in MQTT 3.1.1; MQTT 5 adds a reason code and properties here.
public struct DisconnectPacket: Sendable, Hashable {
    public init() {}
}
