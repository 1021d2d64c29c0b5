import MQTT
import NIOCore

/// Packets in both directions once connected: publishes and their
/// acknowledgements, subscriptions, and what a new connection resends.
extension ClientSession {
    /// How many filters one restoring SUBSCRIBE carries, to stay well within
    /// packet size limits when a client holds many subscriptions.
    static let filtersPerRestoringSubscribe = 64

    // MARK: Incoming packets

    /// Called by the connection handler for every packet, in arrival order.
    func received(_ packet: Packet, on connectionID: Int, channel: any Channel) {
        switch state {
        case .connecting(let attempt) where attempt.connectionID == connectionID:
            guard case .connack(let connack) = packet else {
                protocolViolation(on: channel, "expected CONNACK, received \(packet.type)")
                return
            }
            connackReceived(connack, on: channel, for: attempt)
        case .connected(let connection) where connection.connectionID == connectionID:
            handle(packet, on: connection.channel)
        default:
            break  // Disconnecting, or a channel already left behind.
        }
    }

    private func handle(_ packet: Packet, on channel: any Channel) {
        switch packet {
        case .publish(let publish):
            receivedPublish(publish, on: channel)
        case .pubrel(let ack):
            receipts.release(ack.packetID)
            channel.write(Packet.pubcomp(ack), promise: nil)
        case .puback(let ack), .pubrec(let ack):
            if ack.reasonCode.isError {
                complete(outbound.refused(ack.packetID, ids: &packetIDs), packetID: ack.packetID, type: packet.type, on: channel, refusal: ack)
            } else if case .puback = packet {
                complete(outbound.puback(ack.packetID, ids: &packetIDs), packetID: ack.packetID, type: .puback, on: channel)
            } else {
                complete(outbound.pubrec(ack.packetID), packetID: ack.packetID, type: .pubrec, on: channel)
            }
        case .pubcomp(let ack):
            complete(outbound.pubcomp(ack.packetID, ids: &packetIDs), packetID: ack.packetID, type: .pubcomp, on: channel)
        case .suback(let suback):
            receivedSubAck(suback, on: channel)
        case .unsuback(let ack):
            receivedUnsubAck(ack, on: channel)
        case .pingresp:
            break
        case .connack:
            protocolViolation(on: channel, "a second CONNACK")
        case .disconnect(let disconnect) where configuration.protocolVersion == .v5:
            logger.warning("the broker ended the connection", metadata: [
                "mqtt.reason": "\(disconnect.reasonCode)", "mqtt.reason-string": "\(disconnect.properties.reasonString ?? "")",
            ])
            channel.pipeline.fireErrorCaught(
                MQTTClientError.disconnectedByBroker(disconnect.reasonCode, reason: disconnect.properties.reasonString))
        case .connect, .subscribe, .unsubscribe, .pingreq, .disconnect, .auth:
            protocolViolation(on: channel, "a broker must not send \(packet.type)")
        }
    }

    /// QoS 1 is acknowledged after delivery; QoS 2 is delivered once, however
    /// often the broker resends it before PUBREL.
    private func receivedPublish(_ publish: PublishPacket, on channel: any Channel) {
        var publish = publish
        if configuration.protocolVersion == .v5 {
            do {
                publish.topic = try aliases.resolve(publish)
            } catch {
                protocolViolation(on: channel, error.description, code: error.reasonCode)
                return
            }
            publish.properties.topicAlias = nil
        }
        switch publish.qos {
        case .atMostOnce:
            deliver(publish)
        case .atLeastOnce:
            deliver(publish)
            channel.write(Packet.puback(AckPacket(packetID: publish.packetID)), promise: nil)
        case .exactlyOnce:
            if receipts.receive(publish.packetID) { deliver(publish) }
            channel.write(Packet.pubrec(AckPacket(packetID: publish.packetID)), promise: nil)
        }
    }

    private func deliver(_ publish: PublishPacket) {
        let message = MQTTMessage(
            topic: publish.topic, payload: publish.payload, qos: publish.qos, retain: publish.retain,
            properties: publish.properties)
        let (deliveries, overflows) = subscriptions.dispatch(message)
        if deliveries == 0 {
            logger.debug("no local subscription for message", metadata: ["mqtt.topic": "\(publish.topic)"])
        }
        // Logged at 1, 2, 4, 8, … drops: visible without flooding the log.
        for overflow in overflows where overflow.droppedCount.nonzeroBitCount == 1 {
            logger.warning("subscription buffer full; dropped the oldest message", metadata: [
                "mqtt.filters": "\(overflow.filters.map(\.filter))", "mqtt.dropped": "\(overflow.droppedCount)",
            ])
        }
    }

    private func complete(
        _ acknowledgement: OutboundPublishes.Acknowledgement, packetID: UInt16, type: PacketType, on channel: any Channel,
        refusal: AckPacket? = nil
    ) {
        switch acknowledgement {
        case .completed(let promise):
            if let refusal {
                promise?.fail(MQTTClientError.publishRefused(refusal.reasonCode, reason: refusal.properties.reasonString))
            } else {
                promise?.succeed()
            }
            sendAdmittedPublishes(on: channel)
        case .release:
            channel.write(Packet.pubrel(AckPacket(packetID: packetID)), promise: nil)
        case .unexpected:
            logger.debug("ignoring an acknowledgement for no publish of ours", metadata: [
                "mqtt.packet": "\(type)", "mqtt.packet-id": "\(packetID)",
            ])
        }
    }

    private func receivedSubAck(_ suback: SubAckPacket, on channel: any Channel) {
        guard let request = requests.complete(suback.packetID, ids: &packetIDs) else {
            logger.debug("ignoring SUBACK for no request", metadata: ["mqtt.packet-id": "\(suback.packetID)"])
            return
        }
        guard case .subscribe(let filters, let subscription, let promise) = request else {
            request.fail(MQTTClientError.protocolViolation("SUBACK answered UNSUBSCRIBE"))
            protocolViolation(on: channel, "SUBACK answered UNSUBSCRIBE \(suback.packetID)")
            return
        }
        guard suback.returnCodes.count == filters.count else {
            let reason = "SUBACK has \(suback.returnCodes.count) return codes for \(filters.count) filters"
            if let subscription { subscriptions.remove(subscription) }
            promise?.fail(MQTTClientError.protocolViolation(reason))
            protocolViolation(on: channel, reason)
            return
        }
        let refused = zip(filters, suback.returnCodes).filter { $0.1.grantedQoS == nil }.map(\.0.filter)
        guard let subscription else {
            if !refused.isEmpty {
                logger.error("the broker refused to restore subscriptions", metadata: ["mqtt.filters": "\(refused)"])
            }
            return
        }
        if refused.isEmpty {
            subscriptions.confirm(subscription)
            promise?.succeed(suback.returnCodes.compactMap(\.grantedQoS))
            return
        }
        // All or nothing: undo the filters that the broker did grant.
        subscriptions.remove(subscription)
        let granted = zip(filters, suback.returnCodes).filter { $0.1.grantedQoS != nil }.map(\.0.filter)
        let unused = granted.filter { !subscriptions.isInUse($0) }
        if !unused.isEmpty {
            requests.enqueue(.unsubscribe(unused, promise: nil))
            sendQueuedRequests(on: channel)
        }
        promise?.fail(MQTTClientError.subscriptionRefused(filters: refused))
    }

    private func receivedUnsubAck(_ ack: AckPacket, on channel: any Channel) {
        switch requests.complete(ack.packetID, ids: &packetIDs) {
        case .unsubscribe(_, let promise):
            promise?.succeed()
        case let request?:
            request.fail(MQTTClientError.protocolViolation("UNSUBACK answered SUBSCRIBE"))
            protocolViolation(on: channel, "UNSUBACK answered SUBSCRIBE \(ack.packetID)")
        case nil:
            logger.debug("ignoring UNSUBACK for no request", metadata: ["mqtt.packet-id": "\(ack.packetID)"])
        }
    }

    // MARK: Outgoing traffic

    func publish(_ packet: PublishPacket, promise: EventLoopPromise<Void>) {
        if let limit = brokerMaximumPacketSize, let size = try? Packet.publish(packet).encodedSize(version: .v5), size > limit {
            promise.fail(MQTTClientError.packetTooLarge(size: size, limit: limit))
            return
        }
        if packet.qos == .atMostOnce {
            guard case .connected(let connection) = state else {
                promise.fail(MQTTClientError.notConnected)
                return
            }
            let written = connection.channel.write(Packet.publish(abbreviated(packet)))
            scheduleFlush()
            promise.completeWith(written.flatMapErrorThrowing { error in
                throw MQTTClientError.connectionLost(reason: String(describing: error))
            })
            return
        }
        switch state {
        case .idle, .disconnecting:
            promise.fail(MQTTClientError.notConnected)
        case .connecting, .waitingToReconnect, .connected:
            do {
                try outbound.submit(packet, promise: promise)
            } catch {
                promise.fail(error)
                return
            }
            if case .connected(let connection) = state { sendAdmittedPublishes(on: connection.channel) }
        }
    }

    func subscribe(
        _ filters: [TopicSubscription], sink: MessageSink,
        promise: EventLoopPromise<(SubscriptionID, [QoS])>
    ) {
        switch state {
        case .idle, .disconnecting:
            promise.fail(MQTTClientError.notConnected)
            return
        case .connecting, .waitingToReconnect, .connected:
            break
        }
        // Registered before SUBSCRIBE goes out, so that retained messages
        // following the SUBACK find it.
        let id = subscriptions.add(filters, sink: sink)
        let granted = eventLoop.makePromise(of: [QoS].self)
        promise.completeWith(granted.futureResult.map { (id, $0) })
        promise.futureResult.assumeIsolated().whenFailure { [self] error in
            // The caller was cancelled and will never hold the subscription.
            if error is CancellationError { unsubscribe(id, promise: nil) }
        }
        requests.enqueue(.subscribe(filters, subscription: id, promise: granted))
        if case .connected(let connection) = state { sendQueuedRequests(on: connection.channel) }
    }

    /// Removes a local subscription and tells the broker to drop the filters
    /// that no other local subscription uses. Waits for UNSUBACK only when
    /// connected; otherwise the UNSUBSCRIBE follows with the next connection.
    func unsubscribe(_ id: SubscriptionID, promise: EventLoopPromise<Void>?) {
        guard let entry = subscriptions.remove(id) else {
            promise?.succeed()
            return
        }
        var unused: [String] = []
        for filter in entry.filters.map(\.filter) where !unused.contains(filter) && !subscriptions.isInUse(filter) {
            unused.append(filter)
        }
        guard !unused.isEmpty else {
            promise?.succeed()
            return
        }
        switch state {
        case .connected(let connection):
            requests.enqueue(.unsubscribe(unused, promise: promise))
            sendQueuedRequests(on: connection.channel)
        case .connecting, .waitingToReconnect:
            requests.enqueue(.unsubscribe(unused, promise: nil))
            promise?.succeed()
        case .idle, .disconnecting:
            promise?.succeed()
        }
    }

    func droppedMessageCount(of id: SubscriptionID) -> Int {
        subscriptions.droppedCount(of: id)
    }

    /// Everything a new connection sends first: the subscriptions a new
    /// session lacks, requests and publishes that were waiting, then new
    /// publishes as far as the inflight window allows.
    func resumeSession(on channel: any Channel, sessionPresent: Bool) {
        if !sessionPresent {
            receipts.removeAll()
            let filters = subscriptions.confirmedFilters()
            let restorations = stride(from: 0, to: filters.count, by: Self.filtersPerRestoringSubscribe).map {
                let chunk = Array(filters[$0..<min($0 + Self.filtersPerRestoringSubscribe, filters.count)])
                return BrokerRequests.Request.subscribe(chunk, subscription: nil, promise: nil)
            }
            requests.prepend(restorations)
        }
        for packet in requests.sendQueued(ids: &packetIDs) {
            channel.write(packet, promise: nil)
        }
        for packet in outbound.resume(sessionPresent: sessionPresent, ids: &packetIDs) {
            if case .publish(let publish) = packet {
                channel.write(Packet.publish(abbreviated(publish)), promise: nil)
            } else {
                channel.write(packet, promise: nil)
            }
        }
        sendAdmittedPublishes(on: channel)
    }

    private func sendAdmittedPublishes(on channel: any Channel) {
        for packet in outbound.admit(ids: &packetIDs) {
            channel.write(Packet.publish(abbreviated(packet)), promise: nil)
        }
        scheduleFlush()
    }

    /// The PUBLISH as it goes on this connection: with a topic alias where
    /// the broker allows them (MQTT 5). The kept packet keeps its topic, for
    /// a resend on another connection.
    private func abbreviated(_ publish: PublishPacket) -> PublishPacket {
        guard aliases.outboundMaximum > 0 else { return publish }
        var publish = publish
        aliases.abbreviate(&publish)
        return publish
    }

    private func sendQueuedRequests(on channel: any Channel) {
        for packet in requests.sendQueued(ids: &packetIDs) {
            channel.write(packet, promise: nil)
        }
        scheduleFlush()
    }

    /// Flushes once the event loop has run the tasks already queued, so that
    /// a burst of publishes from many tasks leaves in few system calls. A
    /// flush with nothing written costs nothing.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            if case .connected(let connection) = state { connection.channel.flush() }
        }
    }
}
