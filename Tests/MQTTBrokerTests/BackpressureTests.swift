import MQTT
import MQTTBroker
import NIOCore
import Testing

/// While a subscriber is behind, the connections feeding it are not read:
/// TCP holds their clients back instead of the broker acknowledging
/// messages it then drops. Past the slow-consumer timeout the subscriber
/// is on its own, so that one stuck client cannot stall the home.
@Suite("Backpressure: publishers wait for a subscriber that is behind", .timeLimit(.minutes(5)))
struct BackpressureTests {
    /// Waits (bounded) until the broker's status satisfies `condition`.
    private func waitForStatus(_ broker: MQTTBroker, timeout: Duration = .seconds(30), _ condition: (BrokerStatus) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(try await broker.status()) { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    private func publish(_ index: Int, topic: String = "fan/in") -> Packet {
        .publish(PublishPacket(topic: topic, payload: ByteBuffer(string: "\(index)"), qos: .atLeastOnce, packetID: UInt16(index % 65_535 + 1)))
    }

    /// Receives `count` PUBLISHes, acknowledging each, and returns their payloads.
    private func receiveAndAcknowledge(_ client: RawClient, count: Int) async throws -> [String] {
        var payloads: [String] = []
        while payloads.count < count {
            guard case .publish(let message) = try await client.next(timeout: .seconds(30)) else { continue }
            payloads.append(message.payloadText)
            try await client.send(.puback(AckPacket(packetID: message.packetID)))
        }
        return payloads
    }

    @Test("every acknowledged QoS 1 message reaches a subscriber that falls behind; others carry on meanwhile")
    func acknowledgedMessagesAreNotDropped() async throws {
        try await withBroker({ $0.maximumQueuedMessages = 100 }) { broker, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "dashboard")
            _ = try await subscriber.subscribe("fan/in", qos: .atLeastOnce)
            let (bystander, _) = try await RawClient.connected(to: port, clientID: "bystander")
            _ = try await bystander.subscribe("other/#")
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "sensor")

            // 1,000 messages sent at once; the subscriber acknowledges nothing yet.
            for index in 0..<1_000 { try await publisher.send(publish(index)) }
            #expect(try await waitForStatus(broker) { $0.heldBackConnections == 1 })

            // A client that feeds only others is read as usual.
            let (other, _) = try await RawClient.connected(to: port, clientID: "other")
            try await other.send(.publish(PublishPacket(topic: "other/ping", payload: ByteBuffer(string: "through"))))
            #expect(try await bystander.nextPublish().payloadText == "through")

            let payloads = try await receiveAndAcknowledge(subscriber, count: 1_000)
            #expect(payloads == (0..<1_000).map(String.init))
            let status = try await broker.status()
            #expect(status.droppedMessages == 0)
            #expect(status.heldBackConnections == 0)
            #expect(status.slowConsumers == 0)
        }
    }

    @Test("a subscriber behind for longer than the timeout is a slow consumer: publishers go on, its excess is dropped")
    func aStuckSubscriberStallsNobodyForLong() async throws {
        try await withBroker({
            $0.maximumQueuedMessages = 100
            $0.maximumInflightMessages = 20
            $0.slowConsumerTimeout = .seconds(6)
        }) { broker, port in
            let (stuck, _) = try await RawClient.connected(to: port, clientID: "stuck")
            _ = try await stuck.subscribe("fan/in", qos: .atLeastOnce)
            // Keepalive 3 s allows 4.5 s of silence: the hold (6 s) must not be held against it.
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "sensor", keepAlive: 3)
            for index in 0..<300 { try await publisher.send(publish(index)) }
            #expect(try await waitForStatus(broker) { $0.slowConsumers == 1 })
            // Released: all 300 acknowledged, then a ping answered.
            try await publisher.send(.pingreq)
            let acknowledged = try await publisher.publishes(until: { $0 == .pingresp })
            #expect(acknowledged.isEmpty)
            let status = try await broker.status()
            #expect(status.heldBackConnections == 0)
            #expect(status.droppedMessages == 300 - 20 - 100)
        }
    }

    @Test("the daemon's subscription behind holds back only the clients that feed it")
    func anInProcessSubscriberBehindHoldsBackItsFeeders() async throws {
        // No slow consumer during the test, however slow the machine: the hold must last until released.
        try await withBroker({ $0.slowConsumerTimeout = .seconds(300) }) { broker, port in
            let received = MessageLog()
            let daemon = try await broker.subscribe([.init(filter: "home/#", qos: .atLeastOnce)]) { received.append($0) }
            let (dashboard, _) = try await RawClient.connected(to: port, clientID: "dashboard")
            _ = try await dashboard.subscribe("garden/#")
            let (device, _) = try await RawClient.connected(to: port, clientID: "device")
            let (gardener, _) = try await RawClient.connected(to: port, clientID: "gardener")

            daemon.setBehind(true)
            _ = try await broker.status()  // a round trip through the broker's loop: the flag is set
            for index in 1...200 {
                try await device.send(.publish(PublishPacket(topic: "home/temperature", payload: ByteBuffer(string: "\(index)"))))
            }
            #expect(try await waitForStatus(broker) { $0.heldBackConnections == 1 })
            #expect(received.messages.count == 1)  // the one that found it behind

            try await gardener.send(.publish(PublishPacket(topic: "garden/soil", payload: ByteBuffer(string: "dry"))))
            #expect(try await dashboard.nextPublish().payloadText == "dry")

            daemon.setBehind(false)
            #expect(await received.waitForCount(200, timeout: .seconds(30)))
            #expect(received.messages.map(\.payloadString) == (1...200).map(String.init))
            await daemon.cancel()
        }
    }
}
