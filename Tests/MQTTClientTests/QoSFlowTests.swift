import MQTT
@_spi(Testing) import MQTTClient
import NIOCore
import Testing

/// The QoS 1 and 2 exchanges packet by packet, against a scripted server
/// that resends, withholds acknowledgements and drops the connection on cue.
@Suite(.timeLimit(.minutes(5))) struct QoSFlowTests {
    private static func publish(_ topic: String, qos: QoS, id: UInt16, dup: Bool = false) -> Packet {
        .publish(PublishPacket(topic: topic, payload: ByteBuffer(string: topic), qos: qos, dup: dup, packetID: id))
    }

    private static func isPublish(_ packet: Packet) -> Bool {
        if case .publish = packet { true } else { false }
    }

    @Test func incomingQoS2IsDeliveredOnceDespiteResends() async throws {
        let broker = try await ScriptedBroker()
        let client = try MQTTClient(configuration: .local(port: broker.port))
        try await client.connect()
        let collector = MessageCollector()
        _ = try await client.subscribe("in/#", qos: .exactlyOnce, handler: collector.handler)

        try await broker.send(Self.publish("in/a", qos: .exactlyOnce, id: 7))
        try await broker.waitForPacket("PUBREC 7") { $0 == .pubrec(AckPacket(packetID: 7)) }
        let seen = broker.received.count
        try await broker.send(Self.publish("in/a", qos: .exactlyOnce, id: 7, dup: true))
        try await broker.waitForPacket("PUBREC 7 again", after: seen) { $0 == .pubrec(AckPacket(packetID: 7)) }
        try await broker.send(.pubrel(AckPacket(packetID: 7)))
        try await broker.waitForPacket("PUBCOMP 7") { $0 == .pubcomp(AckPacket(packetID: 7)) }
        #expect(collector.payloads == ["in/a"])

        // Once released, the identifier may carry a new message.
        try await broker.send(Self.publish("in/b", qos: .exactlyOnce, id: 7))
        #expect(try await collector.waitFor(count: 2).map(\.payloadString) == ["in/a", "in/b"])

        // PUBREL for an identifier we never saw still gets PUBCOMP.
        try await broker.send(.pubrel(AckPacket(packetID: 99)))
        try await broker.waitForPacket("PUBCOMP 99") { $0 == .pubcomp(AckPacket(packetID: 99)) }
        await client.disconnect()
        try await broker.stop()
    }

    @Test func incomingQoS1IsAcknowledgedAfterDelivery() async throws {
        let broker = try await ScriptedBroker()
        let client = try MQTTClient(configuration: .local(port: broker.port))
        try await client.connect()
        let collector = MessageCollector()
        _ = try await client.subscribe("in/#", qos: .atLeastOnce, handler: collector.handler)
        try await broker.send(Self.publish("in/one", qos: .atLeastOnce, id: 3))
        try await broker.waitForPacket("PUBACK 3") { $0 == .puback(AckPacket(packetID: 3)) }
        #expect(collector.payloads == ["in/one"])
        // A QoS 1 resend may be delivered again: at least once.
        try await broker.send(Self.publish("in/one", qos: .atLeastOnce, id: 3, dup: true))
        try await collector.waitFor(count: 2)
        await client.disconnect()
        try await broker.stop()
    }

    @Test func persistentSessionResendsWithDupAndReleasesInOrder() async throws {
        let broker = try await ScriptedBroker(.init(connack: { connect in
            ConnAckPacket(sessionPresent: !connect.cleanSession, returnCode: .accepted)
        }))
        var configuration = MQTTClientConfiguration.local(port: broker.port, clientID: "keeper")
        configuration.cleanSession = false
        configuration.reconnect = .exponentialBackoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(50))
        let client = try MQTTClient(configuration: configuration)
        let events = EventRecorder(client)
        try await client.connect()
        _ = try await client.subscribe("kept/#", qos: .atLeastOnce, handler: { _ in })

        let first = Task { try await client.publish(topic: "one", payload: "one", qos: .atLeastOnce) }
        try await broker.waitForPacket("PUBLISH one") { Self.isPublish($0) }
        let second = Task { try await client.publish(topic: "two", payload: "two", qos: .exactlyOnce) }
        try await waitUntil("two publishes") { broker.received.filter(Self.isPublish).count == 2 }
        let third = Task { try await client.publish(topic: "three", payload: "three", qos: .exactlyOnce) }
        try await waitUntil("three publishes") { broker.received.filter(Self.isPublish).count == 3 }
        let ids = broker.received.compactMap { packet -> UInt16? in
            if case .publish(let publish) = packet { publish.packetID } else { nil }
        }
        #expect(Set(ids).count == 3, "distinct packet identifiers: \(ids)")
        try await broker.send(.pubrec(AckPacket(packetID: ids[2])))
        try await broker.waitForPacket("PUBREL") { $0 == .pubrel(AckPacket(packetID: ids[2])) }

        let before = broker.received.count
        await broker.dropConnection()
        try await events.waitFor("the reconnect", after: 1) { $0 == .connected(sessionPresent: true) }
        try await waitUntil("the resends") { broker.received.count >= before + 4 }
        let resent = Array(broker.received[before...].prefix(4))
        #expect(resent.first.map { if case .connect = $0 { true } else { false } } == true)
        #expect(Array(resent.dropFirst()) == [
            Self.publish("one", qos: .atLeastOnce, id: ids[0], dup: true).replacingPayload("one"),
            Self.publish("two", qos: .exactlyOnce, id: ids[1], dup: true).replacingPayload("two"),
            .pubrel(AckPacket(packetID: ids[2])),
        ])
        // No SUBSCRIBE: the broker kept the session.
        #expect(!broker.received[before...].contains { if case .subscribe = $0 { true } else { false } })

        try await broker.send(.puback(AckPacket(packetID: ids[0])))
        try await finished(first, "publish first")
        try await broker.send(.pubrec(AckPacket(packetID: ids[1])))
        try await broker.waitForPacket("PUBREL two", after: before) { $0 == .pubrel(AckPacket(packetID: ids[1])) }
        try await broker.send(.pubcomp(AckPacket(packetID: ids[1])))
        try await broker.send(.pubcomp(AckPacket(packetID: ids[2])))
        try await finished(second, "publish second")
        try await finished(third, "publish third")
        await client.disconnect()
        try await broker.stop()
    }

    @Test func newSessionGetsSubscriptionsBackAndPublishesAsNew() async throws {
        let broker = try await ScriptedBroker()
        var configuration = MQTTClientConfiguration.local(port: broker.port)
        configuration.reconnect = .exponentialBackoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(50))
        let client = try MQTTClient(configuration: configuration)
        let events = EventRecorder(client)
        try await client.connect()
        _ = try await client.subscribe("a/#", qos: .atLeastOnce, handler: { _ in })
        _ = try await client.subscribe("b/+", qos: .exactlyOnce, handler: { _ in })
        _ = try await client.subscribe("a/#", qos: .exactlyOnce, handler: { _ in })

        let pending = Task { try await client.publish(topic: "q2", payload: "q2", qos: .exactlyOnce) }
        let original = try await broker.waitForPacket("PUBLISH") { Self.isPublish($0) }
        guard case .publish(let sent) = original else { return }
        try await broker.send(.pubrec(AckPacket(packetID: sent.packetID)))
        try await broker.waitForPacket("PUBREL") { $0 == .pubrel(AckPacket(packetID: sent.packetID)) }

        let before = broker.received.count
        await broker.dropConnection()
        try await events.waitFor("the reconnect", after: 1) { $0 == .connected(sessionPresent: false) }
        try await waitUntil("the resends") { broker.received.count >= before + 3 }
        let resent = Array(broker.received[before...].prefix(3))
        guard case .subscribe(let restore) = resent[1], case .publish(let again) = resent[2] else {
            Issue.record("expected CONNECT, SUBSCRIBE, PUBLISH; got \(resent)")
            return
        }
        #expect(restore.subscriptions == [
            TopicSubscription(filter: "a/#", qos: .exactlyOnce), TopicSubscription(filter: "b/+", qos: .exactlyOnce),
        ])
        #expect(again.topic == "q2" && again.qos == .exactlyOnce && !again.dup)

        try await broker.send(.pubrec(AckPacket(packetID: again.packetID)))
        try await broker.waitForPacket("PUBREL", after: before) { $0 == .pubrel(AckPacket(packetID: again.packetID)) }
        try await broker.send(.pubcomp(AckPacket(packetID: again.packetID)))
        try await finished(pending, "publish pending")
        await client.disconnect()
        try await broker.stop()
    }

    @Test func oversizedIncomingPacketClosesTheConnection() async throws {
        let broker = try await ScriptedBroker()
        var configuration = MQTTClientConfiguration.local(port: broker.port)
        configuration.maximumPacketSize = 1024
        let client = try MQTTClient(configuration: configuration)
        let events = EventRecorder(client)
        try await client.connect()
        let big = PublishPacket(topic: "big", payload: ByteBuffer(repeating: 0, count: 2000))
        try await broker.send(.publish(big))
        try await events.waitFor("the loss") {
            $0 == .disconnected(.protocolViolation("packet of 2008 bytes exceeds the maximum of 1024"))
        }
        try await broker.stop()
    }

    @Test func refusedSubscriptionThrowsAndUndoesTheGrantedFilters() async throws {
        let broker = try await ScriptedBroker(.init(suback: { subscribe in
            SubAckPacket(packetID: subscribe.packetID, returnCodes: subscribe.subscriptions.map {
                $0.filter.hasPrefix("forbidden") ? .failure : .init(granted: $0.qos)
            })
        }))
        let client = try MQTTClient(configuration: .local(port: broker.port))
        try await client.connect()
        let collector = MessageCollector()
        await #expect(throws: MQTTClientError.subscriptionRefused(filters: ["forbidden/#"])) {
            try await client.subscribe(
                [TopicSubscription(filter: "ok/#", qos: .atLeastOnce), TopicSubscription(filter: "forbidden/#", qos: .atLeastOnce)],
                handler: collector.handler)
        }
        try await broker.waitForPacket("UNSUBSCRIBE ok/#") {
            if case .unsubscribe(let unsubscribe) = $0 { unsubscribe.filters == ["ok/#"] } else { false }
        }
        await #expect(throws: MQTTClientError.subscriptionRefused(filters: ["forbidden/x"])) {
            try await client.subscribe("forbidden/x")
        }
        // Nothing is left listening: a new subscription gets the message, the refused one does not.
        let probe = MessageCollector()
        _ = try await client.subscribe("ok/#", qos: .atLeastOnce, handler: probe.handler)
        try await broker.send(Self.publish("ok/1", qos: .atMostOnce, id: 0))
        try await probe.waitFor(count: 1)
        #expect(collector.messages.isEmpty)
        await client.disconnect()
        try await broker.stop()
    }
}

extension Packet {
    fileprivate func replacingPayload(_ text: String) -> Packet {
        guard case .publish(var publish) = self else { return self }
        publish.payload = ByteBuffer(string: text)
        return .publish(publish)
    }
}
