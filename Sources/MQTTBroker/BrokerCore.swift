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
    var subscriptions = SubscriptionTrie()
    var retained = RetainedStore()
    var routingPass: UInt64 = 0
    private lazy var sessionExpiry = SessionExpiry(limit: configuration.persistentClientExpiration)
    /// Wills waiting out their will delay, by client id.
    private var delayedWills = DelayedWills()
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
    /// and new or resumed session. The CONNACK is in `packet`'s version.
    func connect(_ packet: ConnectPacket, from connection: ConnectionHandler) -> Result<(ConnAckPacket, Session), ConnectRefusal> {
        let isV5 = packet.protocolVersion == .v5
        func refusal(_ code: ConnectReturnCode, _ reason: String) -> ConnectRefusal {
            let connack = isV5 ? ConnAckPacket(reasonCode: code.mqtt5ReasonCode) : ConnAckPacket(returnCode: code)
            return ConnectRefusal(connack: connack, reason: reason)
        }
        if isV5, let method = packet.properties.authenticationMethod {
            // As Mosquitto without an authentication plugin: no method is known.
            return .failure(ConnectRefusal(
                connack: ConnAckPacket(reasonCode: .badAuthenticationMethod),
                reason: "unsupported authentication method \"\(method)\""))
        }
        let policy = policies[connection.listenerIndex]
        let username: String?
        switch policy.authenticate(packet, certificateIdentity: connection.certificateIdentity) {
        case .admitted(let name): username = name
        case .refused(let code, let reason): return .failure(refusal(code, reason))
        }
        var clientID = packet.clientID
        var assignedClientID: String?
        if clientID.isEmpty {
            // §3.1.3-8: in 3.1.1 an empty id is allowed only with a clean session, and never in 3.1.
            guard isV5 || (packet.cleanSession && packet.protocolVersion != .v3_1) else {
                return .failure(refusal(.identifierRejected, "an empty client id needs a clean session and MQTT 3.1.1"))
            }
            clientID = generateClientID()
            assignedClientID = clientID
        }
        if let existing = sessions[clientID], let previous = existing.connection {
            previous.close(.takenOver)
        }
        let expiryInterval = isV5 ? packet.properties.sessionExpiryInterval ?? 0 : packet.cleanSession ? 0 : .max
        var sessionPresent = false
        let session: Session
        if let existing = sessions[clientID], !packet.cleanSession {
            session = existing
            session.expiryInterval = expiryInterval
            delayedWills.cancel(for: existing)
            // MQTT 3.1's CONNACK has no session-present flag; its first byte is reserved.
            sessionPresent = packet.protocolVersion != .v3_1
        } else {
            if let existing = sessions[clientID] { removeSession(existing) }
            session = Session(clientID: clientID, expiryInterval: expiryInterval, limits: configuration, statistics: statistics)
            sessions[clientID] = session
        }
        session.identity = ClientIdentity(clientID: clientID, username: username)
        session.permissions = policy.permissions(for: session.identity)
        session.listenerIndex = connection.listenerIndex
        var connack = ConnAckPacket(sessionPresent: sessionPresent, returnCode: .accepted)
        if isV5 { connack.properties = connackProperties(for: packet, assignedClientID: assignedClientID) }
        return .success((connack, session))
    }

    /// What an MQTT 5 CONNACK tells the client of this broker (§3.2.2.3):
    /// the limits it must keep to, and what it offers.
    private func connackProperties(for connect: ConnectPacket, assignedClientID: String?) -> Properties {
        var properties = Properties()
        properties.assignedClientIdentifier = assignedClientID
        if serverReceiveMaximum < 65_535 { properties.receiveMaximum = UInt16(serverReceiveMaximum) }
        if configuration.maximumPacketSize < FixedHeaderLimits.maximumPacketSize {
            properties.maximumPacketSize = UInt32(configuration.maximumPacketSize)
        }
        if configuration.maximumTopicAlias > 0 { properties.topicAliasMaximum = UInt16(configuration.maximumTopicAlias) }
        properties.retainAvailable = true
        properties.wildcardSubscriptionAvailable = true
        properties.subscriptionIdentifierAvailable = true
        properties.sharedSubscriptionAvailable = true
        if connect.properties.requestResponseInformation == true {
            properties.responseInformation = configuration.responseTopicPrefix + (assignedClientID ?? connect.clientID)
        }
        return properties
    }

    /// The keepalive a connection gets under `max_keepalive`.
    enum KeepAliveDecision {
        case granted(UInt16)
        /// A 3.1.1 client cannot be told another keepalive: it is refused.
        case refused(String)
    }

    func keepAlive(askedFor connect: ConnectPacket) -> KeepAliveDecision {
        let maximum = configuration.maximumKeepAlive
        guard maximum < 65_535, connect.keepAlive == 0 || Int(connect.keepAlive) > maximum else {
            return .granted(connect.keepAlive)
        }
        if connect.protocolVersion == .v5 { return .granted(UInt16(maximum)) }
        return .refused("keepalive \(connect.keepAlive) s is above max_keepalive (\(maximum) s)")
    }

    /// The QoS 1 and 2 PUBLISH packets a client may have unacknowledged at
    /// once (MQTT 5's Receive Maximum in CONNACK): the same bound as the
    /// broker's own window towards clients.
    var serverReceiveMaximum: Int { min(configuration.maximumInflightMessages, 65_535) }

    /// A connection left its session: a session with no expiry interval goes
    /// with it, and the will (if the reason calls for it) is published, or
    /// kept for its will delay.
    func sessionEnded(_ session: Session, connection: ConnectionHandler, will: Will?) {
        guard session.connection === connection else { return }
        session.detach()
        endBackpressure(on: session)
        let persists = sessionExpiry.clientLeft(session)
        if let will {
            let delay = will.properties.willDelayInterval ?? 0
            if delay > 0, persists {
                delayedWills.add(will, of: session, dueAt: .now() + .seconds(Int64(delay)))
            } else {
                publishWill(will, of: session)
            }
        }
        if !persists { removeSession(session) }
    }

    /// A will is a PUBLISH the client left behind: it passes the same
    /// checks, against the ACL in force when it is sent.
    private func publishWill(_ will: Will, of session: Session) {
        guard mayPublish(will.topic, from: session) else { return }
        publish(BrokerMessage(MQTTMessage(
            topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain,
            properties: will.properties.forwarded)))
    }

    /// Closes every connection without publishing wills.
    func closeAll() {
        for connection in connections.values { connection.close(.shutdown) }
    }

    private func expireSessions(now: NIODeadline) {
        for (will, session) in delayedWills.due(by: now) { publishWill(will, of: session) }
        for session in sessionExpiry.expired(by: now) where sessions[session.clientID] === session {
            logger.notice("session of \(session.name) expired: away longer than its expiry interval or persistent_client_expiration")
            removeSession(session)
        }
    }

    /// Ends a session: its subscriptions and messages go, and a will still
    /// waiting out its delay is published now (§3.1.3.2.2).
    private func removeSession(_ session: Session) {
        if let will = delayedWills.cancel(for: session) { publishWill(will, of: session) }
        for filter in session.subscriptions.keys { subscriptions.remove(filter, for: session) }
        session.subscriptions.removeAll()
        session.clear()
        if sessions[session.clientID] === session { sessions[session.clientID] = nil }
    }

    private func generateClientID() -> String {
        generatedIDs += 1
        return "auto-\(generatedIDs)-\(UInt32.random(in: 0...UInt32.max))"
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
            expiredMessages: statistics.expiredMessages,
            refusedConnections: statistics.refusedConnections,
            slowConsumers: statistics.slowConsumers,
            heldBackConnections: statistics.heldBackConnections)
    }
}
