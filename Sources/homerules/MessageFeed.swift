import MQTT
import MQTTClient

/// The messages of some topic filters as one ordered stream, with a marker
/// after the retained messages that the broker sent on subscribing: what
/// comes before it is the state things were in, what comes after is news.
///
/// The marker works because a broker handles one connection's packets in
/// order: it sends the retained messages of a SUBSCRIBE before it answers
/// the next SUBSCRIBE, and the client hands messages over in the order they
/// arrive, before it completes that request.
struct MessageFeed: Sendable {
    enum Item: Sendable {
        case message(MQTTMessage)
        /// Every retained message matching the filters came before this.
        case endOfRetained
        /// The deadline given to ``deadline(after:)`` passed.
        case deadline
    }

    let items: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation

    /// How long to wait for retained messages when the broker refuses the
    /// marker's subscription (an ACL, say).
    private static let fallbackWait = Duration.milliseconds(500)

    /// Subscribes to `filters` and returns once the retained messages are in
    /// the stream, followed by ``Item/endOfRetained``.
    static func subscribe(_ client: MQTTClient, to filters: [TopicSubscription]) async throws -> MessageFeed {
        let (items, continuation) = AsyncStream.makeStream(of: Item.self)
        _ = try await client.subscribe(filters) { continuation.yield(.message($0)) }
        do {
            // A filter nobody publishes on: its SUBACK is the marker.
            let marker = try await client.subscribe("homerules/cli/\(client.clientID)/sync", handler: { _ in })
            try? await marker.unsubscribe()
        } catch MQTTClientError.subscriptionRefused {
            try? await Task.sleep(for: fallbackWait)
        }
        continuation.yield(.endOfRetained)
        return MessageFeed(items: items, continuation: continuation)
    }

    /// Puts ``Item/deadline`` in the stream after `duration`; cancel the task
    /// once done waiting.
    func deadline(after duration: Duration) -> Task<Void, Never> {
        let continuation = self.continuation
        return Task {
            guard (try? await Task.sleep(for: duration)) != nil else { return }
            continuation.yield(.deadline)
        }
    }

    /// Ends the stream.
    func finish() {
        continuation.finish()
    }
}
