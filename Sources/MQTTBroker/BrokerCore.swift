import Logging
import MQTT
import MQTTTopics
import NIOCore

/// All broker state: sessions, subscriptions, retained messages, counters.
///
/// One owner: the broker's event loop. Every connection of the broker lives
/// on that same loop, so handlers call in directly, without locks or hops.
final class BrokerCore {
    let eventLoop: any EventLoop
    let configuration: BrokerConfiguration
    let logger: Logger
    let statistics = BrokerStatistics()

    private var sessions: [String: Session] = [:]
    private var connections: [ObjectIdentifier: ConnectionHandler] = [:]
    private var subscriptions = SubscriptionTrie()
    private var retained = RetainedStore()
    private var routingPass: UInt64 = 0
    private lazy var sessionExpiry = configuration.persistentClientExpiration.map(SessionExpiry.init)
    /// Subscribers behind now, for the slow-consumer sweep.
    var congestedSubscribers: [ObjectIdentifier: any Subscriber] = [:]
    private var generatedIDs = 0
    /// Each listener's security, by listener index; swapped whole on reload.
    var policies: [ListenerPolicy] = []
    /// Every session, for refreshing their ACLs on reload.
    var allSessions: Dictionary<String, Session>.Values { sessions.values }

    init(eventLoop: any EventLoop, configuration: BrokerConfiguration, logger: Logger) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Connections

    /// Sets up an accepted connection's pipeline (TLS, then the connection
    /// handler), or refuses it at `max_connections`. The handler registers
    /// itself once in the pipeline and unregisters when it leaves it, so a
    /// set-up that fails half-way leaves nothing behind.
    func setUpConnection(on channel: any Channel, listenerIndex: Int) throws {
        let peer = channel.remoteAddress.map(MQTTBroker.describe) ?? "unknown"
        guard connections.count < configuration.maximumConnections else {
            statistics.refusedConnections += 1
            logger.warning("refused connection from \(peer): max_connections (\(configuration.maximumConnections)) reached")
            throw BrokerError.tooManyConnections
        }
        let pipeline = channel.pipeline.syncOperations
        if let tls = policies[listenerIndex].tlsContext {
            try BrokerTLS.addServerHandlers(to: pipeline, context: tls)
        }
        try pipeline.addHandler(ConnectionHandler(core: self, remoteAddress: peer, listenerIndex: listenerIndex))
    }

    /// Called by a connection handler added to its pipeline.
    func register(_ connection: ConnectionHandler) {
        connections[ObjectIdentifier(connection)] = connection
        statistics.maximumConnected = max(statistics.maximumConnected, connections.count)
    }

    /// Called by a connection handler leaving its pipeline.
    func unregister(_ connection: ConnectionHandler) {
        connections[ObjectIdentifier(connection)] = nil
    }

    /// Open connections, as the broker counts them against `max_connections`.
    var connectionCount: Int { connections.count }

    /// Closes the connections that have been silent too long (no CONNECT in
    /// time, or no packet within 1.5 × keepalive).
    func sweepSilentConnections(now: NIODeadline = .now()) {
        sweepCongestion(now: now)
        expireSessions(now: now)
        // Silence we imposed (a hold) is nobody's fault.
        let expired = connections.values.filter { connection in
            !connection.isHeldBack && connection.silenceDeadline.map { $0 < now } ?? false
        }
        for connection in expired { connection.silenceExpired() }
    }

    /// A CONNECT the broker turns down: the CONNACK to send, and why, for the log.
    struct ConnectRefusal: Error {
        let connack: ConnAckPacket
        let reason: String
    }

    /// Applies a CONNECT: credentials, the client-id rules, session takeover,
    /// and clean or resumed session.
    func connect(_ packet: ConnectPacket, from connection: ConnectionHandler) -> Result<(ConnAckPacket, Session), ConnectRefusal> {
        let policy = policies[connection.listenerIndex]
        let username: String?
        switch policy.authenticate(packet, certificateIdentity: connection.certificateIdentity) {
        case .admitted(let name): username = name
        case .refused(let code, let reason): return .failure(ConnectRefusal(connack: ConnAckPacket(returnCode: code), reason: reason))
        }
        var clientID = packet.clientID
        if clientID.isEmpty {
            // §3.1.3-8: an empty id is allowed only with a clean session, and not in 3.1.
            guard packet.cleanSession, packet.protocolVersion != .v3_1 else {
                return .failure(ConnectRefusal(
                    connack: ConnAckPacket(returnCode: .identifierRejected),
                    reason: "an empty client id needs a clean session and MQTT 3.1.1"))
            }
            clientID = generateClientID()
        }
        if let existing = sessions[clientID], let previous = existing.connection {
            previous.close(.takenOver)
        }
        var sessionPresent = false
        let session: Session
        if let existing = sessions[clientID], !packet.cleanSession {
            session = existing
            // MQTT 3.1's CONNACK has no session-present flag; its first byte is reserved.
            sessionPresent = packet.protocolVersion != .v3_1
        } else {
            if let existing = sessions[clientID] { removeSession(existing) }
            session = Session(
                clientID: clientID, isPersistent: !packet.cleanSession,
                limits: configuration, statistics: statistics)
            sessions[clientID] = session
        }
        session.identity = ClientIdentity(clientID: clientID, username: username)
        session.permissions = policy.permissions(for: session.identity)
        session.listenerIndex = connection.listenerIndex
        return .success((ConnAckPacket(sessionPresent: sessionPresent, returnCode: .accepted), session))
    }

    /// A connection left its session: a clean session goes with it, and the
    /// will (if the reason calls for it) is published.
    func sessionEnded(_ session: Session, connection: ConnectionHandler, will: Will?) {
        guard session.connection === connection else { return }
        session.detach()
        endBackpressure(on: session)
        if session.isPersistent {
            sessionExpiry?.clientLeft(session)
        } else {
            removeSession(session)
        }
        // A will is a PUBLISH the client left behind: it passes the same
        // checks, against the ACL in force when it is sent.
        if let will, mayPublish(will.topic, from: session) {
            publish(MQTTMessage(topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain))
        }
    }

    /// Closes every connection without publishing wills.
    func closeAll() {
        for connection in connections.values { connection.close(.shutdown) }
    }

    private func expireSessions(now: NIODeadline) {
        guard let expired = sessionExpiry?.expired(by: now), !expired.isEmpty else { return }
        for session in expired where sessions[session.clientID] === session {
            logger.notice("persistent session of \(session.name) expired: away longer than persistent_client_expiration")
            removeSession(session)
        }
    }

    private func removeSession(_ session: Session) {
        for filter in session.subscriptions.keys { subscriptions.remove(filter, for: session) }
        session.subscriptions.removeAll()
        session.outgoing.removeAll()
        if sessions[session.clientID] === session { sessions[session.clientID] = nil }
    }

    private func generateClientID() -> String {
        generatedIDs += 1
        return "auto-\(generatedIDs)-\(UInt32.random(in: 0...UInt32.max))"
    }

    // MARK: Subscriptions

    /// Adds the session's subscriptions; each invalid filter gets 0x80.
    func subscribe(_ session: Session, to requests: [TopicSubscription]) -> [SubscribeReturnCode] {
        requests.map { request in
            do {
                try Self.validateFilter(request.filter)
            } catch {
                logger.notice("refused subscription to \"\(request.filter)\": \(error)", metadata: ["client": "\(session.clientID)"])
                return .failure
            }
            if let permissions = session.permissions, !permissions.maySubscribe(filter: request.filter) {
                logger.info("denied subscription to \"\(request.filter)\" by the ACL", metadata: ["client": "\(session.clientID)"])
                return .failure
            }
            subscriptions.insert(request.filter, qos: request.qos, for: session)
            session.subscriptions[request.filter] = request.qos
            return SubscribeReturnCode(granted: request.qos)
        }
    }

    func unsubscribe(_ session: Session, from filters: [String]) {
        for filter in filters where session.subscriptions.removeValue(forKey: filter) != nil {
            subscriptions.remove(filter, for: session)
        }
    }

    /// Sends the retained messages matching each granted filter (§3.3.1-6),
    /// with the retain flag set.
    func deliverRetained(to subscriber: any Subscriber, for requests: [TopicSubscription], granted: [SubscribeReturnCode]) {
        for (request, code) in zip(requests, granted) {
            guard let grantedQoS = code.grantedQoS else { continue }
            for message in retained.matches(request.filter) {
                subscriber.deliver(message, qos: min(message.qos, grantedQoS))
            }
        }
    }

    // MARK: In-process subscribers

    func subscribe(_ subscriber: LocalSubscriber, to requests: [TopicSubscription]) throws(TopicRefusal) {
        for request in requests { try Self.validateFilter(request.filter) }
        for request in requests {
            subscriptions.insert(request.filter, qos: request.qos, for: subscriber)
            subscriber.filters.insert(request.filter)
        }
        deliverRetained(to: subscriber, for: requests, granted: requests.map { SubscribeReturnCode(granted: $0.qos) })
    }

    /// Replaces the subscriber's filters: new ones are added (with their
    /// retained messages), gone ones removed, kept ones untouched, so no
    /// message is lost or doubled by the change.
    func update(_ subscriber: LocalSubscriber, to requests: [TopicSubscription]) throws(TopicRefusal) {
        for request in requests { try Self.validateFilter(request.filter) }
        let wanted = Set(requests.map(\.filter))
        for filter in subscriber.filters.subtracting(wanted) {
            subscriptions.remove(filter, for: subscriber)
            subscriber.filters.remove(filter)
        }
        let added = requests.filter { !subscriber.filters.contains($0.filter) }
        for request in requests {
            subscriptions.insert(request.filter, qos: request.qos, for: subscriber)
            subscriber.filters.insert(request.filter)
        }
        deliverRetained(to: subscriber, for: added, granted: added.map { SubscribeReturnCode(granted: $0.qos) })
    }

    func unsubscribe(_ subscriber: LocalSubscriber) {
        for filter in subscriber.filters { subscriptions.remove(filter, for: subscriber) }
        subscriber.filters.removeAll()
        endBackpressure(on: subscriber)
    }

    /// The daemon says whether its input queue is full.
    func setBehind(_ subscriber: LocalSubscriber, _ behind: Bool) {
        subscriber.isBehind = behind
        if !behind { subscriberProgressed(subscriber) }
    }

    // MARK: Topics

    /// Why a topic or filter is deeper than this broker takes, or nil.
    static func depthProblem(_ topic: String) -> String? {
        let levels = Topic.levelCount(topic)
        guard levels > BrokerConfiguration.maximumTopicLevels else { return nil }
        return "topic has \(levels) levels, more than the \(BrokerConfiguration.maximumTopicLevels) this broker takes"
    }

    /// Checks a filter by MQTT's rules and the broker's depth limit.
    static func validateFilter(_ filter: String) throws(TopicRefusal) {
        do {
            try Topic.validateFilter(filter)
        } catch {
            throw .invalid(error)
        }
        if let problem = depthProblem(filter) { throw .tooDeep(problem) }
    }

    /// Publishes a message of the in-process API, whose topic no decoder
    /// has checked: an invalid one is logged and counted, not routed.
    func publishFromProcess(_ message: MQTTMessage, leavingOut publisher: (any Subscriber)? = nil) {
        do {
            try Topic.validateName(message.topic)
        } catch {
            refuseFromProcess(message, "\(error)")
            return
        }
        if let problem = Self.depthProblem(message.topic) {
            refuseFromProcess(message, problem)
            return
        }
        publish(message, leavingOut: publisher)
    }

    private func refuseFromProcess(_ message: MQTTMessage, _ reason: String) {
        statistics.droppedMessages += 1
        logger.error("dropped an in-process message to \"\(message.topic)\": \(reason)")
    }

    // MARK: Routing

    /// Routes one message to every matching subscriber, once each at the
    /// highest QoS its overlapping subscriptions grant, and keeps it if
    /// retained. A connection it came from (`origin`) waits while a
    /// subscriber it reaches is behind (`applyBackpressure`); the in-process
    /// subscriber that published it (`publisher`) is left out (MQTT 5's No Local).
    func publish(_ message: MQTTMessage, from origin: ConnectionHandler? = nil, leavingOut publisher: (any Subscriber)? = nil) {
        if message.retain { retained.store(message) }
        routingPass &+= 1
        let pass = routingPass
        var matched: [(subscriber: any Subscriber, qos: QoS)] = []
        subscriptions.forEachMatch(of: message.topic) { subscriber, qos in
            if subscriber.routingMark.pass == pass {
                let slot = subscriber.routingMark.slot
                matched[slot].qos = max(matched[slot].qos, qos)
            } else {
                subscriber.routingMark = RoutingMark(pass: pass, slot: matched.count)
                matched.append((subscriber, qos))
            }
        }
        // §3.3.1-9: a message matching an established subscription goes out with RETAIN 0.
        var forwarded = message
        forwarded.retain = false
        var encodedQoS0: EncodedPublish?
        for (subscriber, qos) in matched where subscriber !== publisher {
            subscriber.deliver(forwarded, qos: min(qos, message.qos), encodedQoS0: &encodedQoS0)
            if let origin { applyBackpressure(after: subscriber, from: origin) }
        }
    }

    // MARK: Status

    var status: BrokerStatus {
        let connected = sessions.values.count(where: { $0.connection != nil })
        return BrokerStatus(
            uptimeSeconds: Int((NIODeadline.now() - statistics.startTime).nanoseconds / 1_000_000_000),
            clientsConnected: connected,
            clientsTotal: sessions.count,
            clientsMaximum: statistics.maximumConnected,
            subscriptions: subscriptions.count,
            retainedMessages: retained.count,
            packetsReceived: statistics.packetsReceived,
            packetsSent: statistics.packetsSent,
            publishReceived: statistics.publishReceived,
            publishSent: statistics.publishSent,
            bytesReceived: statistics.bytesReceived,
            bytesSent: statistics.bytesSent,
            droppedMessages: statistics.droppedMessages,
            refusedConnections: statistics.refusedConnections,
            slowConsumers: statistics.slowConsumers,
            heldBackConnections: statistics.heldBackConnections)
    }
}
