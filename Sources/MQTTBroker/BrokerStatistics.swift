import NIOCore

/// Counters behind `$SYS/broker/...`, kept on the broker's event loop.
final class BrokerStatistics {
    let startTime = NIODeadline.now()
    /// Every packet received or sent, of any type (Mosquitto's `messages/...`).
    var packetsReceived = 0
    var packetsSent = 0
    /// PUBLISH packets only (Mosquitto's `publish/messages/...`).
    var publishReceived = 0
    var publishSent = 0
    var bytesReceived = 0
    var bytesSent = 0
    /// Messages lost to a full queue or a slow consumer.
    var droppedMessages = 0
    /// MQTT 5 messages whose expiry interval ran out before they could be sent.
    var expiredMessages = 0
    /// Subscribers declared slow consumers (behind past `slowConsumerTimeout`).
    var slowConsumers = 0
    /// Connections not read now because a subscriber they feed is behind.
    var heldBackConnections = 0
    /// Connections closed on accept because `max_connections` was reached.
    var refusedConnections = 0
    var maximumConnected = 0
}

/// A snapshot of the broker's counters, for the in-process API and tests.
public struct BrokerStatus: Sendable, Hashable {
    public var uptimeSeconds: Int
    public var clientsConnected: Int
    /// Connected clients plus persistent sessions whose client is away.
    public var clientsTotal: Int
    public var clientsMaximum: Int
    public var subscriptions: Int
    public var retainedMessages: Int
    public var packetsReceived: Int
    public var packetsSent: Int
    public var publishReceived: Int
    public var publishSent: Int
    public var bytesReceived: Int
    public var bytesSent: Int
    public var droppedMessages: Int
    /// MQTT 5 messages whose expiry interval ran out before they could be sent.
    public var expiredMessages: Int
    public var refusedConnections: Int
    /// Subscribers declared slow consumers since the start.
    public var slowConsumers: Int
    /// Connections held back now by a subscriber they feed.
    public var heldBackConnections: Int
}
