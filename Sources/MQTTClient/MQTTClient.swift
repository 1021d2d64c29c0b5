import Logging
import MQTT
import NIOCore
import NIOPosix

/// An MQTT 3.1.1 (or 3.1) client with async/await, on SwiftNIO.
///
/// ```swift
/// let client = try MQTTClient(configuration: MQTTClientConfiguration(url: "mqtt://127.0.0.1"))
/// try await client.connect()
/// let temperatures = try await client.subscribe("home/+/temperature", qos: .atLeastOnce)
/// try await client.publish(topic: "home/led/set", payload: "on", qos: .atLeastOnce)
/// for await message in temperatures.prefix(3) { print(message.topic, message.payloadString) }
/// await client.disconnect()
/// ```
///
/// **Connection.** `connect()` throws if the first connection fails. Once
/// connected, a dropped connection is re-established with backoff, as the
/// configuration's ``ReconnectPolicy`` says, until `disconnect()`; follow it
/// with ``connectionEvents()``.
///
/// **Session.** Unacknowledged QoS 1 and 2 publishes and pending SUBSCRIBE
/// requests survive a reconnect and are sent again in order. When the broker
/// did not keep the session (always with `cleanSession`), the client
/// subscribes again to every filter of its local subscriptions. Local
/// subscriptions mirror the broker's session: with `cleanSession` they end at
/// `disconnect()` (or at a loss with reconnecting off); without it they stay
/// for the next `connect()`, so that the messages the broker queued meanwhile
/// reach them.
///
/// **Concurrency.** All state lives on one event loop of the group, which
/// also runs the connection: messages are dispatched in the order they
/// arrive, with no task per message. Call `disconnect()` when done; releasing
/// the last reference to the client (subscriptions hold one) disconnects too.
public final class MQTTClient: Sendable {
    /// What CONNACK said about the session.
    public struct ConnectResult: Sendable, Hashable {
        /// Whether the broker resumed a session it kept for this client id.
        public var sessionPresent: Bool
    }

    public let configuration: MQTTClientConfiguration
    /// The configured client id, or the one generated for this client.
    public let clientID: String
    /// The event loop that owns this client's state and connections.
    public let eventLoop: any EventLoop
    private let session: NIOLoopBoundBox<ClientSession>

    /// Creates a client; nothing happens on the network until ``connect()``.
    ///
    /// - Throws: ``MQTTClientError/invalidConfiguration(_:)`` (also for TLS
    ///   files that are missing, unreadable or not PEM, read here once) or
    ///   ``MQTTClientError/invalidTopicName(_:_:)`` for a will topic.
    public init(
        configuration: MQTTClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "homerules.mqtt-client")
    ) throws(MQTTClientError) {
        try configuration.validate()
        let tlsContext = try configuration.tls?.makeContext()
        self.configuration = configuration
        self.clientID = configuration.resolvedClientID
        self.eventLoop = eventLoopGroup.next()
        self.session = .makeBoxSendingValue(
            ClientSession(
                configuration: configuration, tlsContext: tlsContext, clientID: clientID, eventLoop: eventLoop, logger: logger),
            as: ClientSession.self,
            eventLoop: eventLoop)
    }

    deinit {
        let session = self.session
        session.eventLoop.execute { session.value.clientReleased() }
    }

    // MARK: Connection

    /// Connects and returns once the broker accepted the connection.
    /// Cancelling the calling task abandons the attempt.
    ///
    /// - Throws: ``MQTTClientError/connectionRefused(_:)`` naming the CONNACK
    ///   return code, ``MQTTClientError/unreachable(host:port:reason:)``,
    ///   ``MQTTClientError/connectTimeout(host:port:timeout:)``,
    ///   ``MQTTClientError/tlsFailed(_:)``, or ``MQTTClientError/alreadyConnected``.
    @discardableResult
    public func connect() async throws -> ConnectResult {
        try await onEventLoop { session, promise in session.connect(promise: promise) }
    }

    /// Sends DISCONNECT, so that the broker discards the will, and closes the
    /// connection; stops reconnecting. Operations still waiting fail with
    /// ``MQTTClientError/disconnected``. Safe to call at any time, and twice.
    public func disconnect() async {
        let _: Void? = try? await onEventLoop { session, promise in session.disconnect(promise: promise) }
    }

    /// A new stream of the client's connection events, from now on. Each call
    /// returns an independent stream; one that lags keeps the newest 64 events.
    public func connectionEvents() -> AsyncStream<ConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ConnectionEvent.self, bufferingPolicy: .bufferingNewest(EventBroadcaster.bufferSize))
        let session = self.session
        eventLoop.execute { session.value.events.add(continuation) }
        return stream
    }

    /// Closes the connection without DISCONNECT, as a crash or a cut cable
    /// would: the broker publishes the will, and the client reconnects if its
    /// policy says so.
    @_spi(Testing)
    public func dropConnection() {
        let session = self.session
        eventLoop.execute { session.value.dropConnection() }
    }

    // MARK: Publishing

    /// Publishes a message and returns when it is acknowledged: at QoS 0 once
    /// written to the socket, at QoS 1 at PUBACK, at QoS 2 at PUBCOMP.
    ///
    /// QoS 1 and 2 publishes made while the client reconnects wait for the
    /// connection, at most ``MQTTClientConfiguration/maximumQueuedMessages``
    /// of them; a QoS 0 publish without a connection throws
    /// ``MQTTClientError/notConnected``. Cancelling the calling task stops
    /// the wait with `CancellationError`, but not the message: once handed
    /// over, it is delivered as its QoS promises.
    public func publish(topic: String, payload: ByteBuffer, qos: QoS = .atMostOnce, retain: Bool = false) async throws {
        try await publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain))
    }

    /// Publishes a message with its MQTT 5 properties (content type,
    /// response topic, correlation data, user properties, message expiry...),
    /// as the variant above. The properties need ``MQTTClientConfiguration/protocolVersion``
    /// `.v5`; MQTT 3.1.1 has no place for them.
    ///
    /// - Throws: ``MQTTClientError/publishRefused(_:reason:)`` when an MQTT 5
    ///   broker refuses a QoS 1 or 2 message.
    public func publish(_ message: MQTTMessage) async throws {
        try StringValidation.topicName(message.topic)
        guard message.properties.isEmpty || configuration.protocolVersion == .v5 else {
            throw MQTTClientError.invalidConfiguration("message properties need MQTT 5")
        }
        let packet = PublishPacket(
            topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain,
            properties: message.properties)
        try checkSize(of: .publish(packet))
        try await onEventLoop { session, promise in session.publish(packet, promise: promise) }
    }

    /// Publishes a UTF-8 text payload, as the `ByteBuffer` variant does.
    public func publish(topic: String, payload: String, qos: QoS = .atMostOnce, retain: Bool = false) async throws {
        try await publish(topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain)
    }

    // MARK: Subscribing

    /// Subscribes to `filter` and returns the messages as an async sequence.
    ///
    /// The subscription receives every message whose topic matches `filter`,
    /// including those that also match other subscriptions of this client.
    /// It buffers at most `bufferSize` messages that its consumer has not
    /// taken yet; when full, the oldest is dropped and counted in
    /// ``MQTTSubscription/droppedMessageCount`` (the newest state matters
    /// most). QoS 1 and 2 messages are acknowledged once buffered. Ending the
    /// iteration's task, or releasing the subscription, unsubscribes; so
    /// does cancelling the task that waits for this call.
    ///
    /// - Throws: ``MQTTClientError/invalidTopicFilter(_:_:)``,
    ///   ``MQTTClientError/subscriptionRefused(filters:)`` when SUBACK says 0x80,
    ///   ``MQTTClientError/notConnected``.
    public func subscribe(
        _ filter: String, qos: QoS = .atMostOnce, bufferSize: Int = MQTTSubscription.defaultBufferSize
    ) async throws -> MQTTSubscription {
        let filters = [TopicSubscription(filter: filter, qos: qos)]
        try validate(filters)
        let (stream, continuation) = AsyncStream.makeStream(
            of: MQTTMessage.self, bufferingPolicy: .bufferingNewest(max(1, bufferSize)))
        let (id, granted) = try await onEventLoop { session, promise in
            session.subscribe(filters, sink: .stream(continuation), promise: promise)
        }
        let session = self.session
        continuation.onTermination = { _ in
            session.eventLoop.execute { session.value.unsubscribe(id, promise: nil) }
        }
        return MQTTSubscription(filter: filter, grantedQoS: granted[0], id: id, stream: stream, client: self)
    }

    /// Subscribes to several filters at once and calls `handler` for every
    /// matching message: the fastest path, with no buffer in between.
    ///
    /// The handler runs on the client's event loop, one message at a time in
    /// arrival order; it must return quickly and never block. A message
    /// matching several of the filters reaches it once. If the broker refuses
    /// any filter, the whole subscription is undone and this throws.
    public func subscribe(
        _ filters: [TopicSubscription], handler: @escaping @Sendable (MQTTMessage) -> Void
    ) async throws -> MQTTHandlerSubscription {
        try validate(filters)
        let (id, granted) = try await onEventLoop { session, promise in
            session.subscribe(filters, sink: .handler(handler), promise: promise)
        }
        return MQTTHandlerSubscription(filters: filters, grantedQoS: granted, id: id, client: self)
    }

    /// Subscribes to one filter with a handler; see ``subscribe(_:handler:)``.
    public func subscribe(
        _ filter: String, qos: QoS = .atMostOnce, handler: @escaping @Sendable (MQTTMessage) -> Void
    ) async throws -> MQTTHandlerSubscription {
        try await subscribe([TopicSubscription(filter: filter, qos: qos)], handler: handler)
    }

    /// Ends a subscription; the broker is told to drop its filter unless
    /// another local subscription uses it. Returns at UNSUBACK when connected.
    public func unsubscribe(_ subscription: MQTTSubscription) async throws {
        try await unsubscribe(subscription.id)
    }

    /// Ends a handler subscription, as for a stream subscription.
    public func unsubscribe(_ subscription: MQTTHandlerSubscription) async throws {
        try await unsubscribe(subscription.id)
    }

    func unsubscribe(_ id: SubscriptionID) async throws {
        try await onEventLoop { session, promise in session.unsubscribe(id, promise: promise) }
    }

    func droppedMessageCount(of id: SubscriptionID) async -> Int {
        (try? await onEventLoop { session, promise in promise.succeed(session.droppedMessageCount(of: id)) }) ?? 0
    }

    private func validate(_ filters: [TopicSubscription]) throws(MQTTClientError) {
        guard !filters.isEmpty else { throw .invalidTopicFilter("", .empty) }
        for subscription in filters {
            try StringValidation.topicFilter(subscription.filter)
        }
        try checkSize(of: .subscribe(SubscribePacket(packetID: 1, subscriptions: filters)))
    }

    /// Refuses a packet that the encoder would refuse, or that is larger
    /// than ``MQTTClientConfiguration/maximumPacketSize``, before it is
    /// sent: an encoding error on the connection would close it.
    private func checkSize(of packet: Packet) throws(MQTTClientError) {
        let size: Int
        do {
            size = try packet.encodedSize(version: configuration.protocolVersion)
        } catch {
            throw .unencodable(error)
        }
        guard size <= configuration.maximumPacketSize else {
            throw .packetTooLarge(size: size, limit: configuration.maximumPacketSize)
        }
    }

    /// Runs `operation` on the event loop and waits for the promise it
    /// completes. Cancelling the calling task fails the promise with
    /// `CancellationError` at once; the session sees that failure and
    /// decides what, if anything, to undo.
    private func onEventLoop<Value: Sendable>(
        _ operation: @escaping @Sendable (ClientSession, EventLoopPromise<Value>) -> Void
    ) async throws -> Value {
        let promise = eventLoop.makePromise(of: Value.self)
        let session = self.session
        eventLoop.execute { operation(session.value, promise) }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }
}
