extension MQTTClient {
    /// A change in the client's connection, as ``MQTTClient/connectionEvents()`` reports it.
    public enum ConnectionEvent: Sendable, Hashable {
        /// CONNACK accepted the connection. With `sessionPresent` false the
        /// broker started a new session: queued messages are gone and
        /// retained state is worth taking again (the client has already
        /// restored its subscriptions, so retained messages are on their way).
        case connected(sessionPresent: Bool)
        /// The connection ended: with the reason it was lost, or nil after `disconnect()`.
        case disconnected(MQTTClientError?)
        /// Reconnect attempt `attempt` (1 for the first) starts after `delay`.
        case reconnecting(attempt: Int, delay: Duration)
    }
}

/// Sends connection events to every stream handed out by `connectionEvents()`.
///
/// Each stream buffers the newest events for a consumer that lags; a stream
/// whose consumer went away is dropped at the next event.
struct EventBroadcaster {
    static let bufferSize = 64

    private var continuations: [AsyncStream<MQTTClient.ConnectionEvent>.Continuation] = []

    mutating func add(_ continuation: AsyncStream<MQTTClient.ConnectionEvent>.Continuation) {
        continuations.append(continuation)
    }

    mutating func send(_ event: MQTTClient.ConnectionEvent) {
        continuations.removeAll { continuation in
            if case .terminated = continuation.yield(event) { true } else { false }
        }
    }

    mutating func finishAll() {
        for continuation in continuations { continuation.finish() }
        continuations.removeAll()
    }
}
