import MQTT
import NIOCore

/// Everything an ``MQTTClient`` needs to know before it connects.
///
/// ```swift
/// var configuration = try MQTTClientConfiguration(url: "mqtt://alice:secret@broker.local")
/// configuration.keepAlive = .seconds(30)
/// configuration.will = Will(topic: "home/daemon/status", payload: ByteBuffer(string: "offline"), retain: true)
/// ```
public struct MQTTClientConfiguration: Sendable {
    /// The broker's host name or IP address.
    public var host: String
    /// The broker's TCP port; 1883 unless told otherwise (8883 for `mqtts://`).
    public var port: Int
    /// The client identifier. Empty means "generate one" (``resolvedClientID``):
    /// the broker would refuse an empty id without a clean session, and MQTT 3.1
    /// refuses it always.
    public var clientID: String
    /// Whether the broker discards the session (subscriptions, queued
    /// messages) when the connection ends. With `false` the broker keeps them,
    /// and so does the client: see ``MQTTClient`` for the consequences. A
    /// session is found again by its client id, so set ``clientID`` too.
    public var cleanSession: Bool
    /// The longest silence allowed on the connection. The client sends PINGREQ
    /// when nothing crossed the connection for this long; whole seconds up to
    /// 65,535 (a fraction rounds up). Zero turns keepalive off.
    public var keepAlive: Duration
    /// How long to wait for any packet after a PINGREQ before the connection
    /// counts as lost; nil means one ``keepAlive`` interval, as libmosquitto does.
    public var pingTimeout: Duration?
    /// The message the broker publishes for us if we vanish without DISCONNECT.
    public var will: Will?
    public var username: String?
    /// Sent only with a ``username``, as MQTT 3.1.1 requires.
    public var password: String?
    /// MQTT 3.1.1 unless told otherwise: the version every broker speaks.
    /// `.v5` adds properties, reason codes, session expiry, topic aliases and
    /// the broker's Receive Maximum; `.v3_1` is for brokers that speak only it.
    public var protocolVersion: ProtocolVersion
    /// MQTT 5: how long the broker keeps the session after the connection
    /// ends, in seconds (0: not at all; `UInt32.max`: for ever). With a
    /// session that outlives the connection, a reconnect resumes it (Clean
    /// Start 0), and the QoS 1 and 2 messages that arrived meanwhile come
    /// then. ``cleanSession`` is Clean Start of the first connection.
    public var sessionExpiryInterval: UInt32
    /// MQTT 5: the topic aliases the broker may set up towards this client
    /// (Topic Alias Maximum in CONNECT); 0 refuses them.
    public var topicAliasMaximum: UInt16
    /// The bound on reaching the broker and receiving its CONNACK.
    public var connectTimeout: Duration
    /// What to do when an established connection drops.
    public var reconnect: ReconnectPolicy
    /// The largest packet sent or accepted, fixed header included. A larger
    /// incoming packet closes the connection; a larger publish is refused
    /// before it is sent.
    public var maximumPacketSize: Int
    /// How many QoS 1 and 2 publishes may await their acknowledgement at once
    /// (libmosquitto's and paho's `max_inflight_messages`). Further publishes
    /// wait in order for a free slot.
    public var maximumInflightMessages: Int
    /// How many QoS 1 and 2 publishes may wait for a slot or for a connection
    /// (Mosquitto's `max_queued_messages`). Beyond it, `publish` throws
    /// ``MQTTClientError/queueFull(limit:)`` rather than growing without bound.
    public var maximumQueuedMessages: Int
    /// TLS, as `mqtts://` asks for; nil for plain MQTT.
    public var tls: TLSOptions?

    public static let defaultPort = 1883
    /// The port of MQTT over TLS.
    public static let defaultTLSPort = 8883

    /// The longest string or binary field MQTT can carry (§1.5.3).
    static let maximumFieldLength = 65_535

    public init(
        host: String,
        port: Int = MQTTClientConfiguration.defaultPort,
        clientID: String = "",
        cleanSession: Bool = true,
        keepAlive: Duration = .seconds(60),
        will: Will? = nil,
        username: String? = nil,
        password: String? = nil,
        protocolVersion: ProtocolVersion = .v3_1_1,
        connectTimeout: Duration = .seconds(10),
        reconnect: ReconnectPolicy = .exponentialBackoff(),
        maximumPacketSize: Int = 16 * 1024 * 1024,
        tls: TLSOptions? = nil
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAlive = keepAlive
        self.pingTimeout = nil
        self.will = will
        self.username = username
        self.password = password
        self.protocolVersion = protocolVersion
        self.sessionExpiryInterval = 0
        self.topicAliasMaximum = 16
        self.connectTimeout = connectTimeout
        self.reconnect = reconnect
        self.maximumPacketSize = maximumPacketSize
        self.maximumInflightMessages = 20
        self.maximumQueuedMessages = 1000
        self.tls = tls
    }

    /// Reads host, port and credentials from `mqtt://[user[:password]@]host[:port]`
    /// (`tcp://` is accepted as a synonym); user and password may be
    /// percent-encoded, and an IPv6 host is written in brackets.
    /// `mqtts://` (or `ssl://`) turns on TLS with the system's trust roots
    /// and port 8883 by default; set ``tls`` for a home CA or a client certificate.
    public init(url: String) throws(MQTTClientError) {
        let parsed = try BrokerURL(parsing: url)
        self.init(
            host: parsed.host, port: parsed.port, username: parsed.username, password: parsed.password,
            tls: parsed.usesTLS ? TLSOptions() : nil)
    }

    /// ``clientID``, or a generated `homerules-` id of 22 characters (MQTT 3.1
    /// allows at most 23) when it is empty.
    public var resolvedClientID: String {
        clientID.isEmpty ? Self.generateClientID() : clientID
    }

    static func generateClientID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return "homerules-" + String((0..<12).map { _ in alphabet.randomElement()! })
    }

    /// Checks the values that `connect()` would otherwise trip over.
    func validate() throws(MQTTClientError) {
        func invalid(_ reason: String) -> MQTTClientError { .invalidConfiguration(reason) }
        if host.isEmpty { throw invalid("the broker host is empty") }
        if !(1...65_535).contains(port) { throw invalid("port \(port) is not between 1 and 65535") }
        if keepAlive < .zero || keepAlive > .seconds(65_535) {
            throw invalid("keepalive must be between 0 and 65535 seconds")
        }
        if let pingTimeout, pingTimeout <= .zero { throw invalid("the ping timeout must be positive") }
        if connectTimeout <= .zero { throw invalid("the connect timeout must be positive") }
        if password != nil && username == nil && protocolVersion != .v5 {
            throw invalid("a password needs a user name before MQTT 5")
        }
        if sessionExpiryInterval > 0 && protocolVersion != .v5 {
            throw invalid("a session expiry interval needs MQTT 5; 3.1.1 keeps a session with cleanSession false")
        }
        if protocolVersion == .v3_1 && clientID.utf8.count > 23 {
            throw invalid("MQTT 3.1 allows client ids of at most 23 bytes")
        }
        if maximumPacketSize < 64 { throw invalid("the maximum packet size must be at least 64 bytes") }
        if maximumInflightMessages < 1 || maximumInflightMessages > 65_535 {
            throw invalid("maximumInflightMessages must be between 1 and 65535")
        }
        if maximumQueuedMessages < 0 { throw invalid("maximumQueuedMessages must not be negative") }
        if let will {
            try StringValidation.topicName(will.topic)
            if will.payload.readableBytes > Self.maximumFieldLength { throw invalid("the will payload exceeds 65535 bytes") }
        }
        for (name, value) in [("client id", clientID), ("user name", username ?? ""), ("password", password ?? "")]
        where value.utf8.count > Self.maximumFieldLength {
            throw invalid("the \(name) exceeds 65535 bytes")
        }
        try StringValidation.noNullCharacter(clientID)
        try StringValidation.noNullCharacter(username ?? "")
        try reconnect.validate()
        try tls?.validate()
    }

    /// The keepalive interval in whole seconds, as CONNECT carries it.
    var keepAliveSeconds: UInt16 {
        let (seconds, attoseconds) = keepAlive.components
        return UInt16(clamping: seconds + (attoseconds > 0 ? 1 : 0))
    }

    /// The CONNECT packet this configuration describes.
    /// Whether the broker keeps the session between connections: 3.1.1's
    /// persistent session, or MQTT 5's session expiry.
    var keepsSession: Bool {
        protocolVersion == .v5 ? sessionExpiryInterval > 0 : !cleanSession
    }

    /// The CONNECT of a connection; `resuming` for a reconnect of an MQTT 5
    /// session that outlives its connections.
    func connectPacket(clientID: String, resuming: Bool = false) -> ConnectPacket {
        var packet = ConnectPacket(
            protocolVersion: protocolVersion,
            clientID: clientID,
            cleanSession: cleanSession && !resuming,
            keepAlive: keepAliveSeconds,
            will: will,
            username: username,
            password: password.map { ByteBuffer(string: $0) }
        )
        if protocolVersion == .v5 {
            if sessionExpiryInterval > 0 { packet.properties.sessionExpiryInterval = sessionExpiryInterval }
            if maximumPacketSize < FixedHeaderLimits.maximumPacketSize {
                packet.properties.maximumPacketSize = UInt32(maximumPacketSize)
            }
            if topicAliasMaximum > 0 { packet.properties.topicAliasMaximum = topicAliasMaximum }
        }
        return packet
    }
}
