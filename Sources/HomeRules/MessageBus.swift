import Logging
import MQTT
import MQTTBroker
import MQTTClient
import NIOCore
import Synchronization

/// Where the daemon reads and writes MQTT: the embedded broker, without a
/// socket, or an external broker through the client.
///
/// Messages reach the handler given at `start`, one at a time, in order.
protocol MessageBus: Sendable {
    /// The loop that calls the message handler, when the daemon may run its
    /// own loop there too (nil: the daemon runs on Swift's task threads).
    var eventLoop: (any EventLoop)? { get }
    /// Starts the bus; `onReconnect` is called when a lost connection to an
    /// external broker is back and its retained messages are coming again.
    func start(handler: @escaping @Sendable (MQTTMessage) -> Void, onReconnect: @escaping @Sendable () -> Void) async throws
    /// Makes the subscriptions exactly `filters`.
    func subscribe(to filters: Set<String>) async throws
    /// Publishes in order without waiting for the broker; failures are logged.
    func send(_ message: MQTTMessage)
    /// Stops (true) or resumes (false) taking in messages, where the bus can,
    /// so that devices wait rather than the daemon dropping their messages.
    func pauseInput(_ paused: Bool)
    /// Sends what is queued, then closes the bus.
    func stop() async
}

/// The embedded broker as the daemon's bus.
final class EmbeddedBus: MessageBus {
    let broker: MQTTBroker
    private let state = Mutex<(handler: (@Sendable (MQTTMessage) -> Void)?, subscription: LocalSubscription?)>((nil, nil))

    init(broker: MQTTBroker) {
        self.broker = broker
    }

    var eventLoop: (any EventLoop)? { broker.eventLoop }

    func start(handler: @escaping @Sendable (MQTTMessage) -> Void, onReconnect: @escaping @Sendable () -> Void) async throws {
        state.withLock { $0.handler = handler }
        try await broker.start()
    }

    func subscribe(to filters: Set<String>) async throws {
        let requests = filters.sorted().map { TopicSubscription(filter: $0, qos: .atLeastOnce) }
        let (handler, existing) = state.withLock { ($0.handler, $0.subscription) }
        if let existing {
            try await existing.update(to: requests)
        } else if let handler {
            let subscription = try await broker.subscribe(requests, handler: handler)
            state.withLock { $0.subscription = subscription }
        }
    }

    /// Through the subscription once there is one, so that the daemon never
    /// hears its own publications, whatever its filters (No Local).
    func send(_ message: MQTTMessage) {
        if let subscription = state.withLock({ $0.subscription }) {
            subscription.send(message)
        } else {
            broker.send(message)
        }
    }

    func pauseInput(_ paused: Bool) {
        // Only the devices whose messages reach the daemon wait.
        state.withLock { $0.subscription }?.setBehind(paused)
    }

    func stop() async {
        // Messages sent before are routed first: the loop runs its tasks in order.
        await broker.shutdown()
    }
}

/// An external broker (Mosquitto, EMQX, ...) as the daemon's bus.
///
/// The client reconnects with backoff and subscribes again with a clean
/// session, so the broker sends the retained messages again: `onReconnect`
/// lets the engine take them as news.
final class ExternalBus: MessageBus {
    let client: MQTTClient
    private let publisher: OrderedPublisher
    private let state = Mutex<(handler: (@Sendable (MQTTMessage) -> Void)?, subscription: MQTTHandlerSubscription?)>((nil, nil))
    private let watcher = Mutex<Task<Void, Never>?>(nil)

    init(client: MQTTClient, logger: Logger) {
        self.client = client
        self.publisher = OrderedPublisher(client: client, logger: logger)
    }

    /// The client reconnects and retries on its loop; the rules stay off it.
    var eventLoop: (any EventLoop)? { nil }

    func start(handler: @escaping @Sendable (MQTTMessage) -> Void, onReconnect: @escaping @Sendable () -> Void) async throws {
        state.withLock { $0.handler = handler }
        let events = client.connectionEvents()
        _ = try await client.connect()
        let task = Task {
            for await event in events {
                if case .connected = event { onReconnect() }
            }
        }
        watcher.withLock { $0 = task }
    }

    /// Subscribes to the new set, then drops the old one. A message matching
    /// both in that instant can arrive twice; reloads are rare and overlapping
    /// filters rarer.
    func subscribe(to filters: Set<String>) async throws {
        guard let handler = state.withLock({ $0.handler }) else { return }
        let old = state.withLock { $0.subscription }
        let new = filters.isEmpty ? nil : try await client.subscribe(
            filters.sorted().map { TopicSubscription(filter: $0, qos: .atLeastOnce) }, handler: handler)
        state.withLock { $0.subscription = new }
        if let old { try await old.unsubscribe() }
    }

    func send(_ message: MQTTMessage) {
        publisher.enqueue(message)
    }

    /// Not here: the external broker queues for the daemon, as for any slow
    /// subscriber, within its own limits (Mosquitto: max_queued_messages).
    func pauseInput(_ paused: Bool) {}

    func stop() async {
        watcher.withLock { $0?.cancel() }
        await publisher.finish()
        await client.disconnect()
    }
}
