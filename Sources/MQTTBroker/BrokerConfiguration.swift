import MQTT
import NIOCore

/// Everything the broker can be told, with Mosquitto's defaults where
/// Mosquitto has one. Option names follow mosquitto.conf in the CLI and the
/// configuration file; here they are Swift-cased.
public struct BrokerConfiguration: Sendable {
    /// Where to accept MQTT connections; with none given, 127.0.0.1:1883.
    public var listeners: [Listener]
    /// `max_packet_size`: larger packets close the connection that sent them.
    /// Mosquitto allows the protocol's maximum (256 MiB); a home broker does not
    /// need that, so the default is 16 MiB, room for Zigbee2MQTT's largest.
    public var maximumPacketSize: Int
    /// `max_connections`: connections beyond this are closed on accept.
    public var maximumConnections: Int
    /// `max_queued_messages`: QoS 1 and 2 messages held per client beyond the
    /// inflight window (and while a persistent client is away). Newer messages
    /// are dropped, and counted, when the queue is full.
    public var maximumQueuedMessages: Int
    /// `max_inflight_messages`: outgoing QoS 1 and 2 messages awaiting
    /// acknowledgement per client. Mosquitto's default is 20; ours is 256,
    /// because a window is a round trip: a QoS 1 subscriber gets at most one
    /// window per round trip, 20 messages per 50 ms over a VPN (400 msg/s),
    /// and on this project's benchmark machine both Mosquitto and HomeRules
    /// spend most of a 20-message round trip waiting for the other side to
    /// wake. MQTT 5 itself lets a client that states no Receive Maximum
    /// have 65,535. `maximumInflightBytes` bounds what the window holds.
    public var maximumInflightMessages: Int
    /// `max_inflight_bytes`: topic and payload bytes of the outgoing QoS 1
    /// and 2 messages awaiting acknowledgement per client; an empty window
    /// takes one message of any size. Mosquitto has no bound by default; ours
    /// is 1 MiB, so that a client that stops acknowledging holds at most
    /// `max_inflight_bytes` in its window and `max_queued_bytes` in its queue
    /// (plus one larger message each). 0 means no bound in bytes.
    public var maximumInflightBytes: Int
    /// `max_queued_bytes`: bytes held for a client at every QoS. QoS 1 and 2
    /// messages beyond the inflight window are queued until their topics and
    /// payloads reach this (or `max_queued_messages`), newer ones dropped and
    /// counted; an empty queue takes one message of any size, as Mosquitto.
    /// QoS 0 messages go straight to the socket, and above this many unread
    /// bytes a client gets none (dropped and counted) until it has caught up
    /// to half of it. 0 means no bound in bytes.
    public var maximumQueuedBytes: Int
    /// The most levels a topic or filter may have in this broker, as in
    /// Mosquitto 2.0: a PUBLISH or a will on a deeper topic closes the
    /// connection, a deeper filter gets SUBACK 0x80. MQTT itself allows
    /// 65,535 levels; each level of a filter is a node of the subscription
    /// tree, so the bound keeps a client from making 65,535 nodes of 65 KB.
    public static let maximumTopicLevels = 201

    /// How long a subscriber may stay behind while the publishers feeding it
    /// wait (TCP backpressure: their connections are not read). Past this it
    /// is a slow consumer: logged, counted in `$SYS/broker/clients/slow
    /// consumers`, its publishers read again and its excess dropped. `.zero`
    /// never holds publishers back (Mosquitto's way: drop at the queue limit).
    public var slowConsumerTimeout: TimeAmount

    /// `persistent_client_expiration`: a persistent session whose client has
    /// been away this long is removed, with its subscriptions and queue.
    /// Nil (the default, as Mosquitto's) keeps them for ever.
    public var persistentClientExpiration: TimeAmount?

    /// `max_topic_alias`: the topic aliases an MQTT 5 client may set up on
    /// a connection (Topic Alias Maximum in CONNACK); 0 turns them off.
    /// Mosquitto's default, 10. Aliases the broker uses towards a client are
    /// bounded by what that client allows.
    public var maximumTopicAlias: Int

    /// `max_keepalive`: the longest keepalive a client may use, in seconds.
    /// An MQTT 5 client asking for more, or for none, is told this one
    /// (Server Keep Alive in CONNACK); a 3.1.1 client is refused with 0x02,
    /// as Mosquitto does, having no way to be told. 65535 (the default)
    /// takes any, 0 included.
    public var maximumKeepAlive: Int

    /// What the broker answers an MQTT 5 client that asks for response
    /// information: this, followed by its client id, as the base of its
    /// response topics.
    public var responseTopicPrefix: String

    /// How long a new connection may take to send CONNECT.
    public var connectTimeout: TimeAmount
    /// How often `$SYS/broker/...` is refreshed; nil turns it off.
    public var systemTopicInterval: TimeAmount?

    public init(
        listeners: [Listener] = [Listener()],
        maximumPacketSize: Int = 16 * 1024 * 1024,
        maximumConnections: Int = 10_000,
        maximumQueuedMessages: Int = 1000,
        maximumInflightMessages: Int = 256,
        maximumInflightBytes: Int = 1024 * 1024,
        maximumQueuedBytes: Int = 1024 * 1024,
        slowConsumerTimeout: TimeAmount = .seconds(10),
        persistentClientExpiration: TimeAmount? = nil,
        maximumTopicAlias: Int = 10,
        maximumKeepAlive: Int = 65_535,
        responseTopicPrefix: String = "responses/",
        connectTimeout: TimeAmount = .seconds(10),
        systemTopicInterval: TimeAmount? = .seconds(10)
    ) {
        self.listeners = listeners
        self.maximumPacketSize = maximumPacketSize
        self.maximumConnections = maximumConnections
        self.maximumQueuedMessages = maximumQueuedMessages
        self.maximumInflightMessages = maximumInflightMessages
        self.maximumInflightBytes = maximumInflightBytes
        self.maximumQueuedBytes = maximumQueuedBytes
        self.slowConsumerTimeout = slowConsumerTimeout
        self.persistentClientExpiration = persistentClientExpiration
        self.maximumTopicAlias = maximumTopicAlias
        self.maximumKeepAlive = maximumKeepAlive
        self.responseTopicPrefix = responseTopicPrefix
        self.connectTimeout = connectTimeout
        self.systemTopicInterval = systemTopicInterval
    }

    /// The values each limit may take: the CLI and the settings file check
    /// them alike. Outside them the broker would misbehave (an inflight
    /// window over 65,535 has no free packet identifier to give).
    public enum Bounds {
        public static let maximumConnections = 1...Int(Int32.max)
        public static let maximumPacketSize = 16...FixedHeaderLimits.maximumPacketSize
        public static let maximumQueuedMessages = 0...Int(Int32.max)
        public static let maximumInflightMessages = 1...65_535
        /// 0: no bound in bytes.
        public static let maximumInflightBytes = 0...Int(Int32.max)
        /// 0: no bound in bytes.
        public static let maximumQueuedBytes = 0...Int(Int32.max)
        /// 0: publishers are never held back.
        public static let slowConsumerTimeoutSeconds = 0...86_400
        /// 0: no topic aliases.
        public static let maximumTopicAlias = 0...65_535
        public static let maximumKeepAlive = 10...65_535
    }

    /// One address to accept MQTT connections on, with its own security
    /// when `per_listener_settings` is on.
    public struct Listener: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        /// 0 picks a free port; `MQTTBroker.boundAddresses` tells which.
        public var port: Int
        /// TLS (`mqtts`); nil for plain MQTT.
        public var tls: TLSFiles?
        /// Who may connect and what they may do, for this listener.
        public var security: Security

        public init(host: String = "127.0.0.1", port: Int = 1883, tls: TLSFiles? = nil, security: Security = Security()) {
            self.host = host
            self.port = port
            self.tls = tls
            self.security = security
        }

        /// Parses `HOST:PORT`, `PORT`, or `[IPv6]:PORT`.
        public init?(parsing text: String) {
            if let port = Int(text) {
                self.init(port: port)
                return
            }
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty, (0...65_535).contains(port) else { return nil }
            self.init(host: host, port: port)
        }

        /// Whether the listener only accepts connections from this machine.
        public var isLoopback: Bool {
            host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Authentication and authorization, as mosquitto.conf sets them.
    public struct Security: Sendable, Hashable {
        /// `allow_anonymous`; nil means Mosquitto 2's default: allowed on a
        /// loopback listener without a password file, refused elsewhere.
        public var allowAnonymous: Bool?
        /// `password_file`: Mosquitto's format (`user:$7$...`).
        public var passwordFile: String?
        /// `acl_file`: Mosquitto's syntax.
        public var aclFile: String?

        public init(allowAnonymous: Bool? = nil, passwordFile: String? = nil, aclFile: String? = nil) {
            self.allowAnonymous = allowAnonymous
            self.passwordFile = passwordFile
            self.aclFile = aclFile
        }
    }

    /// The certificate files of a TLS listener (mosquitto.conf's names).
    public struct TLSFiles: Sendable, Hashable {
        /// `cafile`: the authority that client certificates must chain to.
        public var caFile: String?
        /// `certfile`: the server's certificate (chain), PEM.
        public var certFile: String
        /// `keyfile`: the server's private key, PEM.
        public var keyFile: String
        /// `require_certificate`: refuse clients without a valid certificate.
        public var requireCertificate: Bool
        /// `use_identity_as_username`: the certificate's common name becomes
        /// the user name (for the ACL), and no password is needed.
        public var useIdentityAsUsername: Bool

        public init(caFile: String? = nil, certFile: String, keyFile: String, requireCertificate: Bool = false, useIdentityAsUsername: Bool = false) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.requireCertificate = requireCertificate
            self.useIdentityAsUsername = useIdentityAsUsername
        }
    }
}
