import MQTT
import MQTTBroker
import NIOCore
import Testing

@Suite("Subscriptions, routing and retained messages", .timeLimit(.minutes(5)))
struct RoutingTests {
    private func publish(_ topic: String, _ payload: String, qos: QoS = .atMostOnce, id: UInt16 = 0, retain: Bool = false) -> Packet {
        .publish(PublishPacket(topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain, packetID: id))
    }

    @Test func wildcardsMatchAsTheSpecificationSays() async throws {
        try await withBroker { _, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
            _ = try await subscriber.subscribe("home/+/temperature")
            _ = try await subscriber.subscribe("garden/#", packetID: 2)
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            for topic in ["home/kitchen/temperature", "home/kitchen/humidity", "home/a/b/temperature", "garden", "garden/pond/level", "gardens"] {
                try await publisher.send(publish(topic, topic))
            }
            var received: [String] = []
            for _ in 0..<3 { received.append(try await subscriber.nextPublish().topic) }
            #expect(received == ["home/kitchen/temperature", "garden", "garden/pond/level"])
            try await subscriber.expectNothing(after: [publisher])
        }
    }

    @Test func overlappingSubscriptionsDeliverOneCopyAtTheHighestQoS() async throws {
        try await withBroker { _, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
            _ = try await subscriber.subscribe("a/#", qos: .atMostOnce)
            _ = try await subscriber.subscribe("a/+", qos: .atLeastOnce, packetID: 2)
            _ = try await subscriber.subscribe("a/b", qos: .atMostOnce, packetID: 3)
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            try await publisher.send(publish("a/b", "x", qos: .exactlyOnce, id: 1))
            let message = try await subscriber.nextPublish()
            #expect(message.qos == .atLeastOnce)
            try await subscriber.send(.puback(AckPacket(packetID: message.packetID)))
            try await subscriber.expectNothing(after: [publisher])
        }
    }

    @Test func systemTopicsAreNotMatchedByALeadingWildcard() async throws {
        try await withBroker { broker, port in
            let (everything, _) = try await RawClient.connected(to: port, clientID: "all")
            _ = try await everything.subscribe("#")
            _ = try await everything.subscribe("+/broker/#", packetID: 2)
            let (system, _) = try await RawClient.connected(to: port, clientID: "sys")
            _ = try await system.subscribe("$SYS/#")
            await broker.publish(MQTTMessage(topic: "$SYS/broker/test", payload: "1"))
            #expect(try await system.nextPublish().topic == "$SYS/broker/test")
            try await everything.expectNothing()
        }
    }

    @Test func invalidFiltersGetFailureAndTheOthersAreGranted() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected(to: port, clientID: "sub")
            try await client.send(.subscribe(SubscribePacket(packetID: 5, subscriptions: [
                .init(filter: "ok/+", qos: .atLeastOnce),
                .init(filter: "bad/#/tail", qos: .atMostOnce),
                .init(filter: "bad+", qos: .atMostOnce),
                .init(filter: "fine", qos: .exactlyOnce),
            ])))
            #expect(try await client.next() == .suback(SubAckPacket(packetID: 5, returnCodes: [
                SubscribeReturnCode(granted: .atLeastOnce), .failure, .failure, SubscribeReturnCode(granted: .exactlyOnce),
            ])))
        }
    }

    @Test func unsubscribeStopsDelivery() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected(to: port, clientID: "sub")
            _ = try await client.subscribe("t")
            try await client.send(.unsubscribe(UnsubscribePacket(packetID: 4, filters: ["t", "never-subscribed"])))
            #expect(try await client.next() == .unsuback(AckPacket(packetID: 4)))
            try await client.send(publish("t", "self"))
            try await client.expectNothing()
        }
    }

    @Test func retainedMessagesAreKeptDeliveredFlaggedAndCleared() async throws {
        try await withBroker { broker, port in
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            try await publisher.send(publish("home/a/state", "on", retain: true))
            try await publisher.send(publish("home/b/state", "off", qos: .atLeastOnce, id: 1, retain: true))
            _ = try await publisher.next()
            try await publisher.send(publish("home/c/state", "gone", retain: true))
            try await publisher.send(publish("home/c/state", "", retain: true))
            try await publisher.send(.pingreq)
            _ = try await publisher.next()
            #expect(try await broker.status().retainedMessages == 2)

            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
            _ = try await subscriber.subscribe("home/+/state", qos: .atLeastOnce)
            var retained: [String: PublishPacket] = [:]
            for _ in 0..<2 {
                let message = try await subscriber.nextPublish()
                retained[message.topic] = message
                if message.qos != .atMostOnce { try await subscriber.send(.puback(AckPacket(packetID: message.packetID))) }
            }
            #expect(retained["home/a/state"]?.payload.string == "on")
            #expect(retained["home/a/state"]?.qos == .atMostOnce)
            #expect(retained["home/b/state"]?.qos == .atLeastOnce)
            #expect(retained.values.allSatisfy { $0.retain })
            try await subscriber.expectNothing()

            // A live retained publish reaches an existing subscriber with RETAIN 0.
            try await publisher.send(publish("home/a/state", "off", retain: true))
            let live = try await subscriber.nextPublish()
            #expect(live.payload.string == "off" && !live.retain)
        }
    }

    @Test func emptyRetainedPublishIsStillForwarded() async throws {
        try await withBroker { _, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
            _ = try await subscriber.subscribe("x")
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            try await publisher.send(publish("x", "", retain: true))
            #expect(try await subscriber.nextPublish().payload.readableBytes == 0)
        }
    }

    @Test func inProcessSubscriberAndPublisherMeetNetworkClients() async throws {
        try await withBroker { broker, port in
            let received = MessageLog()
            let subscription = try await broker.subscribe([.init(filter: "home/#", qos: .atLeastOnce)]) { message in
                received.append(message)
            }
            let (device, _) = try await RawClient.connected(to: port, clientID: "device")
            _ = try await device.subscribe("home/led/set")
            try await device.send(publish("home/temperature", "29.5", qos: .atLeastOnce, id: 1))
            _ = try await device.next()
            #expect(await received.waitForCount(1))
            #expect(received.messages.first?.payloadString == "29.5")

            await broker.publish(MQTTMessage(topic: "home/led/set", payload: "on"))
            #expect(try await device.nextPublish().payload.string == "on")
            #expect(await received.waitForCount(2))

            await subscription.cancel()
            try await device.send(publish("home/temperature", "30"))
            try await device.send(.pingreq)
            _ = try await device.next()
            #expect(received.messages.count == 2)
        }
    }

    @Test func inProcessSubscriberGetsRetainedMessagesFirst() async throws {
        try await withBroker { broker, _ in
            await broker.publish(MQTTMessage(topic: "home/node/status", payload: "online", retain: true))
            let received = MessageLog()
            let subscription = try await broker.subscribe([.init(filter: "home/+/status", qos: .atMostOnce)]) { received.append($0) }
            #expect(await received.waitForCount(1))
            #expect(received.messages.first?.retain == true)
            await subscription.cancel()
        }
    }

    @Test("an in-process publish on a topic no client could use is dropped and counted, not sent broken")
    func inProcessPublishesAreCheckedLikeAClients() async throws {
        try await withBroker { broker, port in
            let (device, _) = try await RawClient.connected(to: port, clientID: "device")
            _ = try await device.subscribe("#")
            for topic in ["home/led\tset", "home/+/set", "", TopicDepthTests.topic(levels: 202)] {
                await broker.publish(MQTTMessage(topic: topic, payload: "on"))
                broker.send(MQTTMessage(topic: topic, payload: "on", qos: .atLeastOnce))
            }
            await broker.publish(MQTTMessage(topic: "home/marker", payload: "barrier"))
            #expect(try await device.publishes(until: { $0.payloadText == "barrier" }).isEmpty)
            #expect(try await broker.status().droppedMessages == 8)
        }
    }
}
