import MQTT
import MQTTBroker
import NIOCore
import Testing

@Suite("QoS flows and sessions", .timeLimit(.minutes(5)))
struct QoSTests {
    private func publish(_ topic: String, _ payload: String, qos: QoS = .atMostOnce, id: UInt16 = 0, retain: Bool = false, dup: Bool = false) -> Packet {
        .publish(PublishPacket(topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain, dup: dup, packetID: id))
    }

    /// "sub", subscribed to `t` at QoS 1, and "pub", both connected.
    private func subscriberAndPublisher(port: Int) async throws -> (subscriber: RawClient, publisher: RawClient) {
        let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
        _ = try await subscriber.subscribe("t", qos: .atLeastOnce)
        let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
        return (subscriber, publisher)
    }

    @Test func qos1PublishIsAcknowledgedAndDelivered() async throws {
        try await withBroker { _, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
            #expect(try await subscriber.subscribe("t", qos: .atLeastOnce) == [SubscribeReturnCode(granted: .atLeastOnce)])
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            try await publisher.send(publish("t", "one", qos: .atLeastOnce, id: 7))
            #expect(try await publisher.next() == .puback(AckPacket(packetID: 7)))
            let delivered = try await subscriber.nextPublish()
            #expect(delivered.qos == .atLeastOnce && delivered.payload.string == "one" && !delivered.dup)
            try await subscriber.send(.puback(AckPacket(packetID: delivered.packetID)))
        }
    }

    @Test func qos2InboundIsDeliveredOnceDespiteResend() async throws {
        try await withBroker { _, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
            _ = try await subscriber.subscribe("t", qos: .atMostOnce)
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            try await publisher.send(publish("t", "once", qos: .exactlyOnce, id: 9))
            #expect(try await publisher.next() == .pubrec(AckPacket(packetID: 9)))
            // The PUBREC was "lost": the publisher resends with DUP.
            try await publisher.send(publish("t", "once", qos: .exactlyOnce, id: 9, dup: true))
            #expect(try await publisher.next() == .pubrec(AckPacket(packetID: 9)))
            try await publisher.send(.pubrel(AckPacket(packetID: 9)))
            #expect(try await publisher.next() == .pubcomp(AckPacket(packetID: 9)))
            #expect(try await subscriber.nextPublish().payload.string == "once")
            try await subscriber.expectNothing()
        }
    }

    @Test func qos2OutboundRunsTheFullExchange() async throws {
        try await withBroker { _, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
            _ = try await subscriber.subscribe("t", qos: .exactlyOnce)
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            try await publisher.send(publish("t", "exact", qos: .exactlyOnce, id: 1))
            let delivered = try await subscriber.nextPublish()
            #expect(delivered.qos == .exactlyOnce)
            try await subscriber.send(.pubrec(AckPacket(packetID: delivered.packetID)))
            #expect(try await subscriber.next() == .pubrel(AckPacket(packetID: delivered.packetID)))
            try await subscriber.send(.pubcomp(AckPacket(packetID: delivered.packetID)))
            try await subscriber.expectNothing()
        }
    }

    @Test func deliveryQoSIsTheLowerOfPublishedAndGranted() async throws {
        try await withBroker { _, port in
            let (subscriber, publisher) = try await subscriberAndPublisher(port: port)
            try await publisher.send(publish("t", "zero"))
            #expect(try await subscriber.nextPublish().qos == .atMostOnce)
            try await publisher.send(publish("t", "two", qos: .exactlyOnce, id: 3))
            #expect(try await subscriber.nextPublish().qos == .atLeastOnce)
        }
    }

    @Test func inflightWindowIsBoundedAndRefilledInOrder() async throws {
        try await withBroker({ $0.maximumInflightMessages = 3 }) { _, port in
            let (subscriber, publisher) = try await subscriberAndPublisher(port: port)
            for index in 1...5 {
                try await publisher.send(publish("t", "\(index)", qos: .atLeastOnce, id: UInt16(index)))
            }
            var first: [PublishPacket] = []
            for _ in 0..<3 { first.append(try await subscriber.nextPublish()) }
            #expect(first.map(\.payload.string) == ["1", "2", "3"])
            try await subscriber.expectNothing(after: [publisher])
            try await subscriber.send(.puback(AckPacket(packetID: first[0].packetID)))
            #expect(try await subscriber.nextPublish().payload.string == "4")
            try await subscriber.send(.puback(AckPacket(packetID: first[1].packetID)))
            #expect(try await subscriber.nextPublish().payload.string == "5")
        }
    }

    @Test("by default 256 messages wait for acknowledgement per client, and the 257th waits its turn")
    func theDefaultWindowIs256() async throws {
        try await withBroker { _, port in
            let (subscriber, publisher) = try await subscriberAndPublisher(port: port)
            for index in 1...257 {
                try await publisher.send(publish("t", "\(index)", qos: .atLeastOnce, id: UInt16(index)))
            }
            var window: [PublishPacket] = []
            for _ in 1...256 { window.append(try await subscriber.nextPublish()) }
            #expect(window.map(\.payload.string) == (1...256).map(String.init))
            try await subscriber.expectNothing(after: [publisher])
            try await subscriber.send(.puback(AckPacket(packetID: window[0].packetID)))
            #expect(try await subscriber.nextPublish().payload.string == "257")
        }
    }

    @Test("max_inflight_bytes bounds the window in topic and payload bytes; an empty window takes a larger message")
    func inflightWindowIsBoundedInBytes() async throws {
        // "t" and a 4-byte payload: 5 bytes, two to the 10 allowed.
        try await withBroker({ $0.maximumInflightMessages = 100; $0.maximumInflightBytes = 10 }) { _, port in
            let (subscriber, publisher) = try await subscriberAndPublisher(port: port)
            let large = String(repeating: "x", count: 50)
            for (index, payload) in ["m001", "m002", large, "m004"].enumerated() {
                try await publisher.send(publish("t", payload, qos: .atLeastOnce, id: UInt16(index + 1)))
            }
            let first = try await subscriber.nextPublish()
            let second = try await subscriber.nextPublish()
            #expect([first, second].map(\.payload.string) == ["m001", "m002"])
            try await subscriber.expectNothing(after: [publisher])
            // 5 bytes in flight and 51 waiting: over the bound until the window is empty.
            try await subscriber.send(.puback(AckPacket(packetID: first.packetID)))
            try await subscriber.expectNothing()
            try await subscriber.send(.puback(AckPacket(packetID: second.packetID)))
            let third = try await subscriber.nextPublish()
            #expect(third.payload.string == large)
            try await subscriber.expectNothing()
            try await subscriber.send(.puback(AckPacket(packetID: third.packetID)))
            #expect(try await subscriber.nextPublish().payload.string == "m004")
        }
    }

    @Test func persistentSessionQueuesWhileAwayAndResumes() async throws {
        try await withBroker { broker, port in
            let (subscriber, first) = try await RawClient.connected(to: port, clientID: "keeper", cleanSession: false)
            #expect(!first.sessionPresent)
            _ = try await subscriber.subscribe("t", qos: .exactlyOnce)
            try await subscriber.send(.disconnect(DisconnectPacket()))
            #expect(await subscriber.waitForClose())

            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            for index in 1...3 {
                try await publisher.send(publish("t", "q\(index)", qos: .atLeastOnce, id: UInt16(index)))
                _ = try await publisher.next()
            }
            try await publisher.send(publish("t", "lost at qos 0"))
            #expect(try await broker.status().clientsTotal == 2)

            let (back, resumed) = try await RawClient.connected(to: port, clientID: "keeper", cleanSession: false)
            #expect(resumed.sessionPresent)
            var payloads: [String] = []
            for _ in 0..<3 {
                let message = try await back.nextPublish()
                payloads.append(message.payload.string)
                try await back.send(.puback(AckPacket(packetID: message.packetID)))
            }
            #expect(payloads == ["q1", "q2", "q3"])
            try await back.expectNothing()
        }
    }

    @Test func unacknowledgedMessagesAreResentWithDupOnReconnect() async throws {
        try await withBroker { _, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "forgetful", cleanSession: false)
            _ = try await subscriber.subscribe("t", qos: .exactlyOnce)
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            try await publisher.send(publish("t", "a", qos: .atLeastOnce, id: 1))
            try await publisher.send(publish("t", "b", qos: .exactlyOnce, id: 2))
            let a = try await subscriber.nextPublish()
            let b = try await subscriber.nextPublish()
            #expect(!a.dup && !b.dup)
            // "b" got as far as PUBREC; then the device lost power.
            try await subscriber.send(.pubrec(AckPacket(packetID: b.packetID)))
            #expect(try await subscriber.next() == .pubrel(AckPacket(packetID: b.packetID)))
            await subscriber.drop()

            let (back, connack) = try await RawClient.connected(to: port, clientID: "forgetful", cleanSession: false)
            #expect(connack.sessionPresent)
            let resent = try await back.nextPublish()
            #expect(resent.dup && resent.payload.string == "a" && resent.packetID == a.packetID)
            #expect(try await back.next() == .pubrel(AckPacket(packetID: b.packetID)))
        }
    }

    @Test func cleanSessionDiscardsThePreviousOne() async throws {
        try await withBroker { broker, port in
            let (first, _) = try await RawClient.connected(to: port, clientID: "c", cleanSession: false)
            _ = try await first.subscribe("t", qos: .atLeastOnce)
            try await first.send(.disconnect(DisconnectPacket()))
            #expect(await first.waitForClose())
            let (clean, connack) = try await RawClient.connected(to: port, clientID: "c", cleanSession: true)
            #expect(!connack.sessionPresent)
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            try await publisher.send(publish("t", "nobody"))
            try await clean.expectNothing(after: [publisher])
            #expect(try await broker.status().subscriptions == 0)
        }
    }

    @Test func orderIsPreservedPerTopicAcrossQoSLevels() async throws {
        try await withBroker { _, port in
            let (subscriber, publisher) = try await subscriberAndPublisher(port: port)
            for index in 1...10 {
                try await publisher.send(publish("t", "\(index)", qos: .atLeastOnce, id: UInt16(index)))
            }
            var received: [String] = []
            for _ in 1...10 {
                let message = try await subscriber.nextPublish()
                received.append(message.payload.string)
                try await subscriber.send(.puback(AckPacket(packetID: message.packetID)))
            }
            #expect(received == (1...10).map(String.init))
        }
    }
}
