import MQTT
import MQTTBroker
import NIOCore
import TestSupport
import Testing

/// Topics as deep as MQTT allows (65,535 levels) from a hostile client: the
/// broker refuses what is deeper than `maximumTopicLevels` (201, where
/// Mosquitto 2.0 draws the line) and stays up for everyone else.
@Suite("Deep topics: refused past 201 levels, the broker stays up", .timeLimit(.minutes(5)))
struct TopicDepthTests {
    /// 65,535 empty levels: the deepest topic MQTT allows.
    static let deepestTopic = String(repeating: "/", count: 65_534)
    /// `a/a/.../a`, 32,768 levels.
    static let deepNamedTopic = Array(repeating: "a", count: 32_768).joined(separator: "/")
    /// `+/+/.../#`, 32,768 levels.
    static let deepWildcardFilter = String(repeating: "+/", count: 32_767) + "#"

    static func topic(levels: Int) -> String { Array(repeating: "d", count: levels).joined(separator: "/") }

    /// A subscriber to `#` that must keep receiving, with a ping round trip as the barrier.
    private func expectServing(port: Int, _ marker: String) async throws {
        let (watcher, _) = try await RawClient.connected(to: port, clientID: "watcher-\(marker)")
        _ = try await watcher.subscribe("marker/#")
        try await watcher.send(.publish(PublishPacket(topic: "marker/\(marker)", payload: ByteBuffer(string: marker))))
        #expect(try await watcher.nextPublish().payloadText == marker)
    }

    @Test("subscribe, unsubscribe and disconnect with 65,535-level filters")
    func deepFiltersAreRefusedWith0x80() async throws {
        try await withBroker { broker, port in
            let (client, _) = try await RawClient.connected(to: port, clientID: "deep")
            try await client.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: [
                .init(filter: Self.deepestTopic, qos: .atLeastOnce),
                .init(filter: Self.deepWildcardFilter, qos: .atMostOnce),
                .init(filter: "ok/#", qos: .atMostOnce),
            ])))
            #expect(try await client.next() == .suback(SubAckPacket(packetID: 1, returnCodes: [.failure, .failure, .init(granted: .atMostOnce)])))
            try await client.send(.unsubscribe(UnsubscribePacket(packetID: 2, filters: [Self.deepestTopic, Self.deepWildcardFilter])))
            #expect(try await client.next() == .unsuback(AckPacket(packetID: 2)))
            #expect(try await broker.status().subscriptions == 1)
            await client.drop()
            try await expectServing(port: port, "after-deep-filters")
        }
    }

    @Test("a PUBLISH or a retained message on a 65,535-level topic closes only that connection", arguments: [
        deepestTopic, deepNamedTopic,
    ])
    func deepPublishesCloseTheConnection(topic: String) async throws {
        try await withBroker { broker, port in
            let (everything, _) = try await RawClient.connected(to: port, clientID: "everything")
            _ = try await everything.subscribe("#")
            let (client, _) = try await RawClient.connected(to: port, clientID: "deep")
            try await client.send(.publish(PublishPacket(topic: topic, payload: ByteBuffer(string: "x"), qos: .atLeastOnce, retain: true, packetID: 1)))
            #expect(await client.waitForClose())
            try await everything.send(.publish(PublishPacket(topic: "marker", payload: ByteBuffer(string: "barrier"))))
            #expect(try await everything.publishes(until: { $0.payloadText == "barrier" }).isEmpty)
            #expect(try await broker.status().retainedMessages == 0)
            let (late, _) = try await RawClient.connected(to: port, clientID: "late")
            #expect(try await late.subscribe(Self.deepWildcardFilter) == [.failure])
            #expect(try await late.subscribe("#") == [.init(granted: .atMostOnce)])
            try await expectServing(port: port, "after-deep-publish")
        }
    }

    @Test("a will on a 65,535-level topic closes the connection at CONNECT")
    func deepWillsCloseTheConnection() async throws {
        try await withBroker { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send(.connect(ConnectPacket(
                clientID: "deep-will", will: Will(topic: Self.deepestTopic, payload: ByteBuffer(string: "gone"), qos: .atMostOnce, retain: true))))
            #expect(await client.waitForClose())
            try await expectServing(port: port, "after-deep-will")
        }
    }

    /// What a broker does with a filter and a topic of `levels` levels:
    /// "subscribed, published", or "refused" for either.
    private func probe(port: Int, levels: Int) async throws -> String {
        let topic = Self.topic(levels: levels)
        let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub-\(levels)")
        let subscribed: Bool
        do {
            subscribed = try await subscriber.subscribe(topic) == [.init(granted: .atMostOnce)]
        } catch RawClientError.closed {
            subscribed = false  // Mosquitto closes the connection instead of answering 0x80
        }
        let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub-\(levels)")
        try await publisher.send(.publish(PublishPacket(topic: topic, payload: ByteBuffer(string: "x"), qos: .atLeastOnce, packetID: 1)))
        let published: Bool
        do {
            published = try await publisher.next() == .puback(AckPacket(packetID: 1))
        } catch RawClientError.closed {
            published = false
        }
        return "\(subscribed ? "subscribed" : "refused"), \(published ? "published" : "refused")"
    }

    @Test("the limit is where Mosquitto has it: 201 levels taken, 202 refused")
    func theLimitMatchesMosquitto() async throws {
        let ours = try await withBroker { _, port in
            [try await probe(port: port, levels: 201), try await probe(port: port, levels: 202)]
        }
        #expect(ours == ["subscribed, published", "refused, refused"])
        guard Peers.enabled("mosquitto") else { return }
        let mosquitto = try await MosquittoBroker.start()
        defer { mosquitto.stop() }
        #expect(try await probe(port: mosquitto.port, levels: 201) == "subscribed, published")
        #expect(try await probe(port: mosquitto.port, levels: 202) == "refused, refused")
    }
}
