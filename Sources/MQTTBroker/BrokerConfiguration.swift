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
    /// acknowledgement per client.
    public var maximumInflightMessages: Int
    /// `max_queued_bytes`: bytes written to a client's socket but not yet taken
    /// by it. Above this a slow consumer gets no more QoS 0 messages (they are
    /// dropped and counted) until it catches up to half of it.
    public var maximumQueuedBytes: Int
    /// How long a new connection may take to send CONNECT.
    public var connectTimeout: TimeAmount
    /// How often `$SYS/broker/...` is refreshed; nil turns it off.
    public var systemTopicInterval: TimeAmount?

    public init(
        listeners: [Listener] = [Listener()],
        maximumPacketSize: Int = 16 * 1024 * 1024,
        maximumConnections: Int = 10_000,
        maximumQueuedMessages: Int = 1000,
        maximumInflightMessages: Int = 20,
        maximumQueuedBytes: Int = 1024 * 1024,
        connectTimeout: TimeAmount = .seconds(10),
        systemTopicInterval: TimeAmount? = .seconds(10)
    ) {
        self.listeners = listeners
        self.maximumPacketSize = maximumPacketSize
        self.maximumConnections = maximumConnections
        self.maximumQueuedMessages = maximumQueuedMessages
        self.maximumInflightMessages = maximumInflightMessages
        self.maximumQueuedBytes = maximumQueuedBytes
        self.connectTimeout = connectTimeout
        self.systemTopicInterval = systemTopicInterval
    }

    /// One address to accept MQTT connections on.
    public struct Listener: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        /// 0 picks a free port; `MQTTBroker.boundAddresses` tells which.
        public var port: Int

        public init(host: String = "127.0.0.1", port: Int = 1883) {
            self.host = host
            self.port = port
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

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }
}
