import Logging
import MQTT
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
    /// Since when reading from clients is paused, while it is.
    private var readingPausedSince: NIODeadline?
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

    /// Registers an accepted connection, or refuses it at `max_connections`.
    func admit(_ connection: ConnectionHandler) -> Bool {
        guard connections.count < configuration.maximumConnections else {
            statistics.refusedConnections += 1
            return false
        }
        connections[ObjectIdentifier(connection)] = connection
        statistics.maximumConnected = max(statistics.maximumConnected, connections.count)
        return true
    }

    /// Closes the connections that have been silent too long (no CONNECT in
    /// time, or no packet within 1.5 × keepalive).
    func sweepSilentConnections(now: NIODeadline = .now()) {
        // Silence we imposed is nobody's fault.
        guard readingPausedSince == nil else { return }
        let expired = connections.values.filter { connection in
            connection.silenceDeadline.map { $0 < now } ?? false
        }
        for connection in expired { connection.silenceExpired() }
    }

    var isReadingPaused: Bool { readingPausedSince != nil }

    /// Stops or resumes reading from every client. While paused, TCP holds
    /// the publishers back; on resume, the pause is added to every
    /// connection's allowed silence.
    func setReadingPaused(_ paused: Bool) {
        switch (paused, readingPausedSince) {
        case (true, nil):
            readingPausedSince = .now()
            for connection in connections.values { connection.setReading(false) }
        case (false, let since?):
            readingPausedSince = nil
            let pause = NIODeadline.now() - since
            for connection in connections.values {
                connection.postponeSilenceDeadline(by: pause)
                connection.setReading(true)
            }
        default:
            break
        }
    }

    func connectionClosed(_ connection: ConnectionHandler) {
        connections[ObjectIdentifier(connection)] = nil
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
        if !session.isPersistent { removeSession(session) }
        if let will {
            publish(MQTTMessage(topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain))
        }
    }

    /// Closes every connection without publishing wills.
    func closeAll() {
        for connection in connections.values { connection.close(.shutdown) }
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
                try Topic.validateFilter(request.filter)
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

    func subscribe(_ subscriber: LocalSubscriber, to requests: [TopicSubscription]) throws(Topic.SyntaxError) {
        for request in requests { try Topic.validateFilter(request.filter) }
        for request in requests {
            subscriptions.insert(request.filter, qos: request.qos, for: subscriber)
            subscriber.filters.insert(request.filter)
        }
        deliverRetained(to: subscriber, for: requests, granted: requests.map { SubscribeReturnCode(granted: $0.qos) })
    }

    /// Replaces the subscriber's filters: new ones are added (with their
    /// retained messages), gone ones removed, kept ones untouched, so no
    /// message is lost or doubled by the change.
    func update(_ subscriber: LocalSubscriber, to requests: [TopicSubscription]) throws(Topic.SyntaxError) {
        for request in requests { try Topic.validateFilter(request.filter) }
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
    }

    // MARK: Routing

    /// Routes one message to every matching subscriber, once each at the
    /// highest QoS its overlapping subscriptions grant, and keeps it if retained.
    /// `origin`, the in-process subscriber that published it, is left out
    /// (MQTT 5's No Local).
    func publish(_ message: MQTTMessage, from origin: (any Subscriber)? = nil) {
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
        var encodedQoS0: ByteBuffer?
        for (subscriber, qos) in matched where subscriber !== origin {
            subscriber.deliver(forwarded, qos: min(qos, message.qos), encodedQoS0: &encodedQoS0)
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
            refusedConnections: statistics.refusedConnections)
    }
}
