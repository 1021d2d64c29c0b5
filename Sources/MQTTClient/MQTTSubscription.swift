import MQTT

/// The messages of one topic filter, as an async sequence.
///
/// Made by ``MQTTClient/subscribe(_:qos:bufferSize:)``. Iterate it once, from
/// one task. The sequence ends when the subscription is unsubscribed, or when
/// the client stops for good (`disconnect()` on a clean session). It buffers
/// at most its buffer size of messages; when full, the oldest is dropped and
/// counted in ``droppedMessageCount``.
public struct MQTTSubscription: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage
    public typealias AsyncIterator = AsyncStream<MQTTMessage>.Iterator

    /// The buffer size used when none is given: enough for bursts such as the
    /// retained messages of a whole home arriving at once.
    public static let defaultBufferSize = 1024

    /// The topic filter subscribed to.
    public let filter: String
    /// The QoS the broker granted, which may be lower than asked for.
    public let grantedQoS: QoS
    let id: SubscriptionID
    let stream: AsyncStream<MQTTMessage>
    let client: MQTTClient

    public func makeAsyncIterator() -> AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// How many messages were dropped because the consumer fell behind.
    public var droppedMessageCount: Int {
        get async { await client.droppedMessageCount(of: id) }
    }

    /// Ends the subscription: the sequence finishes, and the broker is told
    /// to drop the filter unless another local subscription uses it.
    public func unsubscribe() async throws {
        try await client.unsubscribe(self)
    }
}

/// A subscription whose messages go to a handler; made by
/// ``MQTTClient/subscribe(_:handler:)``.
public struct MQTTHandlerSubscription: Sendable {
    /// The filters subscribed to, with the QoS asked for each.
    public let filters: [TopicSubscription]
    /// The QoS the broker granted for each filter, in order.
    public let grantedQoS: [QoS]
    let id: SubscriptionID
    let client: MQTTClient

    /// Ends the subscription: the handler is called no more, and the broker
    /// is told to drop the filters that no other local subscription uses.
    public func unsubscribe() async throws {
        try await client.unsubscribe(self)
    }
}
