import Logging
import MQTT
import MQTTTopics
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The embedded MQTT broker: 3.1, 3.1.1 and 5.0.
///
/// All broker state lives on one event loop, as Mosquitto lives on one
/// thread: connections, routing and the in-process API meet there without
/// locks. Start it, use it, and shut it down:
///
/// ```swift
/// let broker = MQTTBroker(configuration: .init(listeners: [.init(port: 0)]))
/// try await broker.start()
/// let subscription = try await broker.subscribe([.init(filter: "home/#", qos: .atLeastOnce)]) { message in ... }
/// await broker.publish(MQTTMessage(topic: "home/led", payload: "on"))
/// await broker.shutdown()
/// ```
public final class MQTTBroker: Sendable {
    public let configuration: BrokerConfiguration
    private let core: NIOLoopBoundBox<BrokerCore>
    private let ownedGroup: MultiThreadedEventLoopGroup?
    /// The loop that owns all broker state and calls in-process handlers.
    /// Work that talks to the broker at every step can run here (as an
    /// executor) and skip the thread hops.
    public let eventLoop: any EventLoop
    private let logger: Logger
    private let running = Mutex(Running())

    private struct Running {
        var serverChannels: [any Channel] = []
        var systemTopicsTask: RepeatedTask?
        var sweepTask: RepeatedTask?
        var isShutDown = false
    }

    /// - Parameter eventLoop: the loop that will own all broker state; by
    ///   default the broker starts a thread of its own.
    public init(configuration: BrokerConfiguration = BrokerConfiguration(), eventLoop: (any EventLoop)? = nil, logger: Logger = Logger(label: "homerules.broker")) {
        self.configuration = configuration
        self.logger = logger
        if let eventLoop {
            self.ownedGroup = nil
            self.eventLoop = eventLoop
        } else {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            self.ownedGroup = group
            self.eventLoop = group.next()
        }
        let loop = self.eventLoop
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            BrokerCore(eventLoop: loop, configuration: configuration, logger: logger), eventLoop: loop)
    }

    /// Binds every listener. Throws if one cannot be bound; then none is left open.
    public func start() async throws {
        let core = self.core
        let notices = try await eventLoop.submit {
            try core.value.loadPolicies()
            return core.value.policies.flatMap(\.notices)
        }.get()
        for notice in notices { logger.notice("\(notice)") }
        var bound: [any Channel] = []
        do {
            for (index, listener) in configuration.listeners.enumerated() {
                let channel: any Channel
                do {
                    channel = try await makeBootstrap(listenerIndex: index).bind(host: listener.host, port: listener.port).get()
                } catch {
                    throw BrokerError.cannotListen(host: listener.host, port: listener.port, reason: Self.bindFailure(error))
                }
                bound.append(channel)
                let scheme = listener.tls == nil ? "mqtt" : "mqtts"
                logger.info("listening on \(channel.localAddress.map(Self.describe) ?? "\(listener)") (\(scheme))")
            }
        } catch {
            for channel in bound { try? await channel.close() }
            throw error
        }
        let task = configuration.systemTopicInterval.map { interval in
            let core = self.core
            return eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
                for message in SystemTopics.messages(for: core.value.status) { core.value.publish(BrokerMessage(message)) }
            }
        }
        // A quarter second of slack on connect_timeout and keepalive, for one timer in all.
        let sweep = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { _ in
            core.value.sweepSilentConnections()
        }
        running.withLock {
            $0.serverChannels += bound
            $0.systemTopicsTask = task
            $0.sweepTask = sweep
        }
    }

    /// Rereads every listener's password file, ACL file and certificates,
    /// without dropping anyone: new rules apply to each client's next
    /// publish, subscribe and delivery, new certificates to new connections.
    /// A broken file is refused (the error says where) and the files in
    /// force stay in force.
    public func reloadSecurity() async throws {
        let core = self.core
        let warnings = try await eventLoop.submit { try core.value.reloadPolicies() }.get()
        logger.info("reloaded password, ACL and certificate files")
        for warning in warnings { logger.notice("\(warning)") }
    }

    /// The addresses the listeners are bound to, with the ports picked for port 0.
    public var boundAddresses: [SocketAddress] {
        running.withLock { $0.serverChannels.compactMap(\.localAddress) }
    }

    /// Stops listening, closes every connection (wills are not published: the
    /// broker, not the clients, is going away) and stops the broker's thread.
    public func shutdown() async {
        let (channels, tasks, alreadyDown) = running.withLock { state in
            defer {
                state.serverChannels = []
                state.systemTopicsTask = nil
                state.sweepTask = nil
                state.isShutDown = true
            }
            return (state.serverChannels, [state.systemTopicsTask, state.sweepTask], state.isShutDown)
        }
        guard !alreadyDown else { return }
        for task in tasks { task?.cancel() }
        for channel in channels { try? await channel.close() }
        let core = self.core
        try? await eventLoop.submit { core.value.closeAll() }.get()
        logger.info("broker stopped")
        try? await ownedGroup?.shutdownGracefully()
    }

    // MARK: In-process API

    /// Publishes as if a client had: routed to subscribers, kept if retained.
    /// A topic that a client could not publish on (invalid, or deeper than
    /// `BrokerConfiguration.maximumTopicLevels`) is logged and counted as
    /// dropped instead.
    public func publish(_ message: MQTTMessage) async {
        let core = self.core
        try? await eventLoop.submit { core.value.publishFromProcess(message) }.get()
    }

    /// Publishes without waiting: the message is routed on the broker's
    /// loop after every message sent before it, in order. Checked as `publish`.
    public func send(_ message: MQTTMessage) {
        onLoop { $0.publishFromProcess(message) }
    }

    /// Runs `body` on the broker's loop (see `NIOLoopBoundBox.run`).
    private func onLoop(_ body: @escaping @Sendable (BrokerCore) -> Void) {
        core.run(body)
    }

    /// Subscribes in-process. The handler runs on the broker's event loop, in
    /// publish order, and must not block; retained matches arrive first.
    /// Throws for an invalid filter.
    public func subscribe(_ subscriptions: [TopicSubscription], handler: @escaping @Sendable (MQTTMessage) -> Void) async throws -> LocalSubscription {
        let core = self.core
        let loop = eventLoop
        return try await eventLoop.submit {
            let subscriber = LocalSubscriber(handler: handler)
            try core.value.subscribe(subscriber, to: subscriptions)
            return LocalSubscription(subscriber: NIOLoopBound(subscriber, eventLoop: loop), core: core)
        }.get()
    }

    /// The broker's counters now.
    public func status() async throws -> BrokerStatus {
        let core = self.core
        return try await eventLoop.submit { core.value.status }.get()
    }

    // MARK: Listening

    private func makeBootstrap(listenerIndex: Int) -> ServerBootstrap {
        let core = self.core
        let configuration = self.configuration
        // The socket backlog above which QoS 0 messages are dropped; 0: no bound.
        let highWater = configuration.maximumQueuedBytes > 0 ? max(configuration.maximumQueuedBytes, 2) : Int.max
        return ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Small first reads: most connections are idle devices, and NIO keeps the read buffer.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64, maximum: 65_536))
            .childChannelOption(.writeBufferWaterMark, value: .init(low: highWater / 2, high: highWater))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try core.value.setUpConnection(on: channel, listenerIndex: listenerIndex)
                }
            }
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// An in-process subscription; `cancel()` ends it.
public struct LocalSubscription: Sendable {
    fileprivate let subscriber: NIOLoopBound<LocalSubscriber>
    fileprivate let core: NIOLoopBoundBox<BrokerCore>

    /// Changes the filters: messages on filters kept flow on without a gap
    /// or a double, new filters bring their retained messages. Throws for an
    /// invalid filter, changing nothing.
    public func update(to subscriptions: [TopicSubscription]) async throws {
        let subscriber = self.subscriber, core = self.core
        try await core.eventLoop.submit { try core.value.update(subscriber.value, to: subscriptions) }.get()
    }

    /// Tells the broker whether the handler's consumer is behind (its queue
    /// full): while it is, the connections whose messages reach it are not
    /// read, and TCP holds their clients back; clients feeding only others
    /// carry on. Behind for longer than `slowConsumerTimeout`, it is a slow
    /// consumer and its publishers are read again. Safe from any thread.
    public func setBehind(_ behind: Bool) {
        let subscriber = self.subscriber
        core.run { $0.setBehind(subscriber.value, behind) }
    }

    /// Publishes without waiting, as `MQTTBroker.send(_:)` does (checked as
    /// a client's PUBLISH), except that this subscription never receives the
    /// message, whatever its filters (MQTT 5's No Local): the daemon does
    /// not hear its own voice.
    public func send(_ message: MQTTMessage) {
        let subscriber = self.subscriber
        core.run { $0.publishFromProcess(message, leavingOut: subscriber.value) }
    }

    public func cancel() async {
        let subscriber = self.subscriber, core = self.core
        try? await core.eventLoop.submit { core.value.unsubscribe(subscriber.value) }.get()
    }
}

extension NIOLoopBoundBox<BrokerCore> {
    /// Runs `body` on the broker's loop: at once when called from a task on
    /// the loop (not from inside the broker), else after what is queued there.
    fileprivate func run(_ body: @escaping @Sendable (BrokerCore) -> Void) {
        if eventLoop.inEventLoop {
            body(value)
        } else {
            eventLoop.execute { body(self.value) }
        }
    }
}

/// Why the broker refuses a topic filter.
public enum TopicRefusal: Error, Sendable, CustomStringConvertible {
    /// Not a filter by MQTT's rules.
    case invalid(Topic.SyntaxError)
    /// Deeper than `BrokerConfiguration.maximumTopicLevels`.
    case tooDeep(String)
    /// A shared subscription (`$share/GROUP/FILTER`) that is not well formed.
    case invalidShare(String)

    public var description: String {
        switch self {
        case .invalid(let error): "\(error)"
        case .tooDeep(let problem): problem
        case .invalidShare(let problem): "invalid shared subscription: \(problem)"
        }
    }
}

/// Errors of the broker's own making.
public enum BrokerError: Error, CustomStringConvertible, Equatable {
    case tooManyConnections
    /// A listener could not be bound: the address, and why in words.
    case cannotListen(host: String, port: Int, reason: BindFailure)

    /// Why a listener could not be bound.
    public enum BindFailure: Sendable, Equatable, CustomStringConvertible {
        /// Another program (Mosquitto's service, another `serve`) has the port.
        case addressInUse
        /// Ports below 1024 need root or CAP_NET_BIND_SERVICE.
        case permissionDenied
        /// No interface of this machine has the address.
        case addressNotAvailable
        case other(String)

        public var description: String {
            switch self {
            case .addressInUse: "the address is already in use"
            case .permissionDenied: "permission denied"
            case .addressNotAvailable: "no interface of this machine has that address"
            case .other(let reason): reason
            }
        }
    }

    public var description: String {
        switch self {
        case .tooManyConnections:
            "max_connections reached"
        case .cannotListen(let host, let port, let reason):
            "cannot listen on \(host.contains(":") ? "[\(host)]" : host):\(port): \(reason)"
        }
    }
}

extension MQTTBroker {
    /// HomeRules' version: `homerules --version`, `$SYS/broker/version`.
    public static let version = "0.1.0"

    static func bindFailure(_ error: any Error) -> BrokerError.BindFailure {
        guard let error = error as? IOError else { return .other("\(error)") }
        switch error.errnoCode {
        case EADDRINUSE: return .addressInUse
        case EACCES, EPERM: return .permissionDenied
        case EADDRNOTAVAIL: return .addressNotAvailable
        default: return .other(String(cString: strerror(error.errnoCode)))
        }
    }
}
