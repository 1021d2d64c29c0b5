import Foundation
import MQTT
import MQTTClient
import NIOCore
import TestSupport
import Testing

/// Publishing and subscribing through a real Mosquitto broker.
@Suite(.timeLimit(.minutes(5))) struct PublishSubscribeTests {
    @Test(.enabled(if: Peers.enabled("mosquitto")), arguments: [QoS.atMostOnce, .atLeastOnce, .exactlyOnce])
    func everyMessageArrivesOnceInOrder(qos: QoS) async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let subscriber = try await broker.connectedClient()
        let publisher = try await broker.connectedClient()

        let subscription = try await subscriber.subscribe("sensors/+/reading", qos: qos)
        #expect(subscription.grantedQoS == qos)
        let collector = MessageCollector()
        let draining = collector.drain(subscription)
        defer { draining.cancel() }

        let count = 100
        for index in 0..<count {
            try await publisher.publish(topic: "sensors/\(index % 3)/reading", payload: "\(index)", qos: qos)
        }
        let received = try await collector.waitFor(count: count)
        #expect(received.map(\.payloadString) == (0..<count).map(String.init))
        #expect(received.allSatisfy { $0.qos == qos && !$0.retain })
        let beforeMarker = try await collector.messages(beforeMarker: "marker") {
            try await publisher.publish(topic: "sensors/marker/reading", payload: "marker", qos: qos)
        }
        #expect(beforeMarker.count == count)

        await publisher.disconnect()
        await subscriber.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func concurrentPublishesShareTheInflightWindow() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let subscriber = try await broker.connectedClient()
        let collector = MessageCollector()
        _ = try await subscriber.subscribe("burst/#", qos: .exactlyOnce, handler: collector.handler)
        let publisher = try await broker.connectedClient { $0.maximumInflightMessages = 4 }

        let count = 300
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    try await publisher.publish(
                        topic: "burst/\(index)", payload: "\(index)", qos: index.isMultiple(of: 2) ? .atLeastOnce : .exactlyOnce)
                }
            }
            try await group.waitForAll()
        }
        let received = try await collector.waitFor(count: count)
        #expect(Set(received.map(\.payloadString)) == Set((0..<count).map(String.init)))
        let beforeMarker = try await collector.messages(beforeMarker: "marker") {
            try await publisher.publish(topic: "burst/marker", payload: "marker", qos: .exactlyOnce)
        }
        #expect(beforeMarker.count == count)
        await publisher.disconnect()
        await subscriber.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func overlappingSubscriptionsEachGetTheMessage() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient()
        let everything = MessageCollector()
        let temperatures = MessageCollector()
        let kitchen = MessageCollector()
        let handlerForBoth = MessageCollector()
        let all = try await client.subscribe("home/#", qos: .atLeastOnce)
        let allTask = everything.drain(all)
        defer { allTask.cancel() }
        _ = try await client.subscribe("home/+/temperature", qos: .atMostOnce, handler: temperatures.handler)
        let kitchenSubscription = try await client.subscribe("home/kitchen/temperature", qos: .exactlyOnce)
        let kitchenTask = kitchen.drain(kitchenSubscription)
        defer { kitchenTask.cancel() }
        // One handler subscription with two filters that both match: one copy.
        _ = try await client.subscribe(
            [TopicSubscription(filter: "home/kitchen/#", qos: .atLeastOnce),
             TopicSubscription(filter: "home/+/temperature", qos: .atLeastOnce)],
            handler: handlerForBoth.handler)

        let publisher = try await broker.connectedClient()
        try await publisher.publish(topic: "home/kitchen/temperature", payload: "21.5", qos: .atLeastOnce)
        try await publisher.publish(topic: "home/hall/light", payload: "on", qos: .atLeastOnce)
        try await publisher.publish(topic: "home/hall/temperature", payload: "19", qos: .atLeastOnce)

        try await everything.waitFor(count: 3)
        let beforeMarker = try await everything.messages(beforeMarker: "marker") {
            try await publisher.publish(topic: "home/marker", payload: "marker", qos: .atLeastOnce)
        }
        #expect(beforeMarker.map(\.payloadString) == ["21.5", "on", "19"])
        #expect(temperatures.payloads == ["21.5", "19"])
        #expect(kitchen.payloads == ["21.5"])
        #expect(handlerForBoth.payloads == ["21.5", "19"])
        await publisher.disconnect()
        await client.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func retainedMessagesArriveOnSubscribeUntilCleared() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let publisher = try await broker.connectedClient()
        try await publisher.publish(topic: "home/led", payload: "on", qos: .atLeastOnce, retain: true)
        try await publisher.publish(topic: "home/fan", payload: "off", qos: .atLeastOnce, retain: true)

        let subscriber = try await broker.connectedClient()
        let first = MessageCollector()
        let subscription = try await subscriber.subscribe("home/#", qos: .atLeastOnce, handler: first.handler)
        let retained = try await first.waitFor(count: 2)
        #expect(Set(retained.map(\.topic)) == ["home/led", "home/fan"])
        #expect(retained.allSatisfy { $0.retain })

        // A live message is not flagged retained, even when published with retain.
        try await publisher.publish(topic: "home/led", payload: "off", qos: .atLeastOnce, retain: true)
        let live = try await first.waitFor(count: 3)[2]
        #expect(live.payloadString == "off" && !live.retain)

        // An empty retained publish clears the topic.
        try await publisher.publish(topic: "home/led", payload: "", qos: .atLeastOnce, retain: true)
        try await publisher.publish(topic: "home/fan", payload: "", qos: .atLeastOnce, retain: true)
        try await first.waitFor(count: 5)
        try await subscription.unsubscribe()
        let second = MessageCollector()
        _ = try await subscriber.subscribe("home/#", qos: .atLeastOnce, handler: second.handler)
        let beforeMarker = try await second.messages(beforeMarker: "marker") {
            try await publisher.publish(topic: "home/marker", payload: "marker", qos: .atLeastOnce)
        }
        #expect(beforeMarker.isEmpty)
        await publisher.disconnect()
        await subscriber.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func unsubscribedFilterStopsDelivery() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient(clientID: "unsubscriber")
        let collector = MessageCollector()
        let subscription = try await client.subscribe("news/#", qos: .atLeastOnce, handler: collector.handler)
        try await client.publish(topic: "news/a", payload: "1", qos: .atLeastOnce)
        try await collector.waitFor(count: 1)
        try await subscription.unsubscribe()
        try await broker.waitForLog("Received UNSUBSCRIBE from unsubscriber")
        // A new subscription as the barrier: the client hands each message to every
        // matching subscription in turn, so once it has "2" the old one would have too.
        let probe = MessageCollector()
        _ = try await client.subscribe("news/#", qos: .atLeastOnce, handler: probe.handler)
        try await client.publish(topic: "news/a", payload: "2", qos: .atLeastOnce)
        try await probe.waitFor(count: 1)
        #expect(collector.payloads == ["1"])
        await client.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func endingTheStreamUnsubscribes() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient(clientID: "reader")
        let reader = Task {
            let subscription = try await client.subscribe("once/#")
            for await message in subscription { return message.payloadString }
            return ""
        }
        try await broker.waitForLog("Received SUBSCRIBE from reader")
        try await client.publish(topic: "once/x", payload: "first")
        #expect(try await finished(reader, "the first message") == "first")
        try await broker.waitForLog("Received UNSUBSCRIBE from reader")
        await client.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func aLaggingStreamKeepsTheNewestAndCountsTheDropped() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient()
        let subscription = try await client.subscribe("flood/#", qos: .atLeastOnce, bufferSize: 5)
        for index in 0..<20 {
            try await client.publish(topic: "flood/x", payload: "\(index)", qos: .atLeastOnce)
        }
        try await waitUntil("15 drops") { await subscription.droppedMessageCount == 15 }
        var kept: [String] = []
        for await message in subscription {
            kept.append(message.payloadString)
            if kept.count == 5 { break }
        }
        #expect(kept == ["15", "16", "17", "18", "19"])
        await client.disconnect()
    }

    @Test func invalidTopicsAreRefusedBeforeSending() async throws {
        let client = try MQTTClient(configuration: .local(port: 1))
        await #expect(throws: MQTTClientError.invalidTopicName("home/+/led", .wildcardInName)) {
            try await client.publish(topic: "home/+/led", payload: "on")
        }
        await #expect(throws: MQTTClientError.invalidTopicName("", .empty)) {
            try await client.publish(topic: "", payload: "on")
        }
        await #expect(throws: MQTTClientError.invalidTopicFilter("home/#/led", .misplacedMultiLevelWildcard)) {
            try await client.subscribe("home/#/led")
        }
        await #expect(throws: MQTTClientError.invalidTopicFilter("home/kitchen+", .partialLevelWildcard)) {
            try await client.subscribe("home/kitchen+", handler: { _ in })
        }
        let nullTopic = "home/\u{0}/led"
        await #expect(throws: MQTTClientError.invalidTopicName(nullTopic, .disallowedCharacter("\u{0}"))) {
            try await client.publish(topic: nullTopic, payload: "on")
        }
        await #expect(throws: MQTTClientError.invalidTopicFilter("a/\u{0}/#", .disallowedCharacter("\u{0}"))) {
            try await client.subscribe("a/\u{0}/#")
        }
        var small = MQTTClientConfiguration.local(port: 1)
        small.maximumPacketSize = 100
        // Fixed header 2, topic 2 + 3, payload 100.
        await #expect(throws: MQTTClientError.packetTooLarge(size: 107, limit: 100)) {
            try await MQTTClient(configuration: small).publish(topic: "big", payload: String(repeating: "x", count: 100))
        }
        await #expect(throws: MQTTClientError.notConnected) {
            try await client.publish(topic: "home/led", payload: "on", qos: .atLeastOnce)
        }
    }
}
