import Logging
import MQTT
import NIOCore

/// The translation of a client's packets into calls on the broker, and the
/// answers: in the client's protocol version, with MQTT 5's reason codes.
extension ConnectionHandler {
    func handleConnect(_ connect: ConnectPacket) {
        version = connect.protocolVersion
        if let will = connect.will, let problem = BrokerCore.depthProblem(will.topic) {
            close(.protocolError("will \(problem)", code: .topicNameInvalid))
            return
        }
        let keepAlive: UInt16
        switch core.keepAlive(askedFor: connect) {
        case .granted(let seconds): keepAlive = seconds
        case .refused(let reason):
            send(.connack(ConnAckPacket(returnCode: .identifierRejected)))
            close(.refused("client id \"\(connect.clientID)\": \(reason)"))
            return
        }
        if keepAlive > 0 {
            silenceAllowance = .milliseconds(Int64(keepAlive) * 1500)
            silenceDeadline = .now() + .milliseconds(Int64(keepAlive) * 1500)
        } else {
            silenceDeadline = nil
        }
        if version == .v5 {
            let properties = connect.properties
            clientReceiveMaximum = properties.receiveMaximum.map(Int.init)
            clientMaximumPacketSize = properties.maximumPacketSize.map(Int.init)
            connectSessionExpiry = properties.sessionExpiryInterval ?? 0
            sendsProblemInformation = properties.requestProblemInformation ?? true
            aliases = TopicAliases(
                inboundMaximum: core.configuration.maximumTopicAlias,
                outboundMaximum: Int(properties.topicAliasMaximum ?? 0))
        }
        let (connack, session): (ConnAckPacket, Session)
        switch core.connect(connect, from: self) {
        case .success(let accepted):
            (connack, session) = accepted
        case .failure(let refusal):
            send(.connack(refusal.connack))
            close(.refused("client id \"\(connect.clientID)\": \(refusal.reason)"))
            return
        }
        var accepted = connack
        if version == .v5, keepAlive != connect.keepAlive { accepted.properties.serverKeepAlive = keepAlive }
        send(.connack(accepted))
        state = .connected(session, will: connect.will)
        clientIDForLogs = session.clientID
        log(.info, """
            client connected (\(connect.protocolVersion), \(describeSession(connect)), keepalive \(keepAlive) s)
            """)
        session.attach(self)
    }

    private func describeSession(_ connect: ConnectPacket) -> String {
        guard version == .v5 else { return connect.cleanSession ? "clean session" : "persistent session" }
        let start = connect.cleanSession ? "clean start" : "resumed"
        return "\(start), session expiry \(connect.properties.sessionExpiryInterval ?? 0) s"
    }

    func handle(_ packet: Packet, in session: Session) {
        switch packet {
        case .publish(let publish):
            handlePublish(publish, in: session)
        case .puback(let ack):
            if session.outgoing.acknowledge(ack.packetID, ids: &session.packetIDs) != nil { progressed(session) }
        case .pubrec(let ack):
            if ack.reasonCode.isError {
                // MQTT 5: the client refused the message; its flow ends here.
                if session.outgoing.abandon(ack.packetID, ids: &session.packetIDs) != nil { progressed(session) }
            } else {
                let known = session.outgoing.received(ack.packetID)
                send(.pubrel(AckPacket(packetID: ack.packetID, reasonCode: reasonCode(known ? .success : .packetIdentifierNotFound))))
            }
        case .pubrel(let ack):
            let known = session.receipts.release(ack.packetID)
            send(.pubcomp(AckPacket(packetID: ack.packetID, reasonCode: reasonCode(known ? .success : .packetIdentifierNotFound))))
        case .pubcomp(let ack):
            if session.outgoing.complete(ack.packetID, ids: &session.packetIDs) != nil { progressed(session) }
        case .subscribe(let subscribe):
            handleSubscribe(subscribe, in: session)
        case .unsubscribe(let unsubscribe):
            let removed = core.unsubscribe(session, from: unsubscribe.filters)
            var unsuback = AckPacket(packetID: unsubscribe.packetID)
            if version == .v5 { unsuback.reasonCodes = removed.map { $0 ? .success : .noSubscriptionExisted } }
            send(.unsuback(unsuback))
        case .pingreq:
            send(.pingresp)
        case .disconnect(let disconnect):
            handleDisconnect(disconnect, in: session)
        case .connect:
            close(.protocolError("second CONNECT"))
        case .connack, .suback, .unsuback, .pingresp:
            close(.protocolError("\(packet.type) is not sent by clients"))
        case .auth:
            close(.protocolError("AUTH without an authentication method in CONNECT"))
        }
    }

    /// After an acknowledgement ended a flow: the window has room again.
    private func progressed(_ session: Session) {
        session.sendQueued()
        core.subscriberProgressed(session)
    }

    /// The reason code to put in an acknowledgement: MQTT 3.1.1 has none.
    private func reasonCode(_ code: MQTTReasonCode) -> MQTTReasonCode {
        version == .v5 ? code : .success
    }

    private func handlePublish(_ publish: PublishPacket, in session: Session) {
        core.statistics.publishReceived += 1
        var topic = publish.topic
        if version == .v5 {
            guard publish.properties.subscriptionIdentifiers.isEmpty else {
                close(.protocolError("a client's PUBLISH carries a subscription identifier"))
                return
            }
            do {
                topic = try aliases.resolve(publish)
            } catch {
                close(.protocolError(error.description, code: error.reasonCode))
                return
            }
            if publish.qos == .exactlyOnce, !session.receipts.contains(publish.packetID),
               session.receipts.count >= core.serverReceiveMaximum {
                close(.protocolError(
                    "more than \(core.serverReceiveMaximum) QoS 2 messages unacknowledged", code: .receiveMaximumExceeded))
                return
            }
        }
        if let problem = BrokerCore.depthProblem(topic) {
            close(.protocolError("PUBLISH \(problem)", code: .topicNameInvalid))
            return
        }
        let message = BrokerMessage(MQTTMessage(
            topic: topic, payload: publish.payload, qos: publish.qos, retain: publish.retain,
            properties: publish.properties.forwarded))
        let routed = core.mayPublish(topic, from: session)
        switch publish.qos {
        case .atMostOnce:
            if routed { core.publish(message, from: self) }
        case .atLeastOnce:
            let handedOver = routed ? core.publish(message, from: self) : 0
            let code = outcome(routed: routed, handedOver: handedOver)
            send(.puback(AckPacket(packetID: publish.packetID, reasonCode: code, properties: problem(code, topic: topic))))
        case .exactlyOnce:
            // Delivered on first receipt; a resend before PUBREL is only acknowledged again.
            var code = MQTTReasonCode.success
            if !session.receipts.contains(publish.packetID) {
                let handedOver = routed ? core.publish(message, from: self) : 0
                code = outcome(routed: routed, handedOver: handedOver)
                // An error code ends the flow (§4.3.3): no PUBREL follows.
                if !code.isError { _ = session.receipts.receive(publish.packetID) }
            }
            send(.pubrec(AckPacket(packetID: publish.packetID, reasonCode: code, properties: problem(code, topic: topic))))
        }
    }

    /// What PUBACK or PUBREC says of a message in MQTT 5: refused by the
    /// ACL, matched nobody, or on its way. MQTT 3.1.1 acknowledges all alike.
    /// A reason string for a refused message, for an MQTT 5 client that did
    /// not turn problem information off (§3.1.2.11.7).
    private func problem(_ code: MQTTReasonCode, topic: String) -> Properties {
        var properties = Properties()
        if code.isError, sendsProblemInformation { properties.reasonString = "not authorized to publish on \"\(topic)\"" }
        return properties
    }

    private func outcome(routed: Bool, handedOver: Int) -> MQTTReasonCode {
        guard version == .v5 else { return .success }
        if !routed { return .notAuthorized }
        return handedOver == 0 ? .noMatchingSubscribers : .success
    }

    private func handleSubscribe(_ subscribe: SubscribePacket, in session: Session) {
        let isV5 = version == .v5
        if isV5, subscribe.subscriptions.contains(where: { $0.noLocal && SubscriptionFilter.isShared($0.filter) }) {
            close(.protocolError("No Local on a shared subscription"))
            return
        }
        let (codes, accepted) = core.subscribe(session, to: subscribe, isV5: isV5)
        var properties = Properties()
        let refused = zip(subscribe.subscriptions, codes).filter { $0.1.grantedQoS == nil }.map { "\"\($0.0.filter)\" (\($0.1.reasonCode))" }
        if isV5, sendsProblemInformation, !refused.isEmpty {
            properties.reasonString = "refused: " + refused.joined(separator: ", ")
        }
        send(.suback(SubAckPacket(packetID: subscribe.packetID, returnCodes: codes, properties: properties)))
        core.deliverRetained(to: session, for: accepted)
    }

    private func handleDisconnect(_ disconnect: DisconnectPacket, in session: Session) {
        if version == .v5, let interval = disconnect.properties.sessionExpiryInterval {
            guard connectSessionExpiry != 0 || interval == 0 else {
                close(.protocolError("DISCONNECT sets a session expiry after a CONNECT without one"))
                return
            }
            session.expiryInterval = interval
        }
        close(disconnect.reasonCode == .disconnectWithWillMessage && version == .v5 ? .disconnectedWithWill : .disconnected)
    }
}
