import MQTT
import NIOCore
import NIOPosix
import TestSupport
import Testing

@testable import MQTTClient

/// The client's pure parts: identifiers, the inflight window, routing,
/// backoff and packet sizes, without sockets.
@Suite(.timeLimit(.minutes(5))) struct BookkeepingTests {
    @Test func packetIDsSkipThoseInUseAndWrap() {
        var ids = PacketIDAllocator()
        #expect(ids.allocate() == 1)
        #expect(ids.allocate() == 2)
        ids.release(1)
        // A freed identifier is not reused at once.
        #expect(ids.allocate() == 3)
        for _ in 4...UInt16.max { _ = ids.allocate() }
        // Wrapped: 1 is free again, 2 and 3 are not.
        #expect(ids.allocate() == 1)
        #expect(ids.count == Int(UInt16.max))
        #expect(ids.allocate() == nil)
        ids.release(40_000)
        #expect(ids.allocate() == 40_000)
    }

    @Test func publishesBeyondTheWindowWaitInOrder() throws {
        var ids = PacketIDAllocator()
        var outbound = OutboundPublishes(window: 2, queueLimit: 4)
        let promises = (0..<4).map { _ in Self.loop.makePromise(of: Void.self) }
        defer { promises.forEach { $0.succeed() } }
        for (index, promise) in promises.enumerated() {
            let qos: QoS = index == 3 ? .exactlyOnce : .atLeastOnce
            try outbound.submit(PublishPacket(topic: "t/\(index)", payload: ByteBuffer(), qos: qos), promise: promise)
        }
        #expect(outbound.waitingCount == 4)
        let admitted = outbound.admit(ids: &ids)
        #expect(admitted.map(\.topic) == ["t/0", "t/1"])
        #expect(admitted.map(\.packetID) == [1, 2])
        #expect(outbound.admit(ids: &ids).isEmpty)

        #expect(outbound.puback(2, ids: &ids).kind == "completed")
        #expect(outbound.admit(ids: &ids).map(\.topic) == ["t/2"])
        #expect(outbound.puback(2, ids: &ids).kind == "unexpected")
        #expect(outbound.pubrec(1).kind == "unexpected", "PUBREC answers QoS 2 only")
        #expect(outbound.puback(1, ids: &ids).kind == "completed")
        let last = outbound.admit(ids: &ids)
        #expect(last.map(\.topic) == ["t/3"])
        #expect(outbound.pubcomp(last[0].packetID, ids: &ids).kind == "unexpected", "PUBCOMP before PUBREC")
        #expect(outbound.pubrec(last[0].packetID).kind == "release")
        #expect(outbound.pubcomp(last[0].packetID, ids: &ids).kind == "completed")
    }

    @Test func resumeResendsInOrderWithDupOrAsNew() throws {
        var ids = PacketIDAllocator()
        var outbound = OutboundPublishes(window: 10, queueLimit: 10)
        let promises = (0..<3).map { _ in Self.loop.makePromise(of: Void.self) }
        defer { promises.forEach { $0.succeed() } }
        for (index, promise) in promises.enumerated() {
            try outbound.submit(PublishPacket(topic: "t/\(index)", payload: ByteBuffer(), qos: .exactlyOnce), promise: promise)
        }
        let sent = outbound.admit(ids: &ids)
        #expect(outbound.pubrec(sent[0].packetID).kind == "release")

        var present = outbound
        var presentIDs = ids
        #expect(present.resume(sessionPresent: true, ids: &presentIDs).map(Self.summary) == [
            "PUBREL 1", "PUBLISH t/1 dup", "PUBLISH t/2 dup",
        ])
        #expect(outbound.resume(sessionPresent: false, ids: &ids).map(Self.summary) == [
            "PUBLISH t/0", "PUBLISH t/1", "PUBLISH t/2",
        ])
    }

    private static let loop = MultiThreadedEventLoopGroup.singleton.next()

    private static func summary(_ packet: Packet) -> String {
        switch packet {
        case .publish(let publish): "PUBLISH \(publish.topic)\(publish.dup ? " dup" : "")"
        case .pubrel(let ack): "PUBREL \(ack.packetID)"
        default: "\(packet.type)"
        }
    }

    @Test func waitingQueueIsBounded() throws {
        var outbound = OutboundPublishes(window: 1, queueLimit: 1)
        let first = Self.loop.makePromise(of: Void.self), second = Self.loop.makePromise(of: Void.self)
        defer { first.succeed(); second.succeed() }
        try outbound.submit(PublishPacket(topic: "a", payload: ByteBuffer(), qos: .atLeastOnce), promise: first)
        #expect(throws: MQTTClientError.queueFull(limit: 1)) {
            try outbound.submit(PublishPacket(topic: "b", payload: ByteBuffer(), qos: .atLeastOnce), promise: second)
        }
    }

    @Test func overlappingLocalSubscriptionsEachGetOneCopy() {
        var registry = SubscriptionRegistry()
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTMessage.self, bufferingPolicy: .bufferingNewest(1))
        _ = stream
        let all = registry.add([TopicSubscription(filter: "home/#", qos: .atMostOnce)], sink: .stream(continuation))
        let both = registry.add(
            [TopicSubscription(filter: "home/+/t", qos: .atLeastOnce), TopicSubscription(filter: "home/k/t", qos: .exactlyOnce)],
            sink: .handler { _ in })
        _ = registry.add([TopicSubscription(filter: "other", qos: .atMostOnce)], sink: .handler { _ in })

        #expect(registry.dispatch(MQTTMessage(topic: "home/k/t", payload: "1")).deliveries == 2)
        #expect(registry.dispatch(MQTTMessage(topic: "other", payload: "1")).deliveries == 1)
        #expect(registry.dispatch(MQTTMessage(topic: "$SYS/x", payload: "1")).deliveries == 0)
        // The one-message buffer of `all` now drops its oldest.
        let (_, overflows) = registry.dispatch(MQTTMessage(topic: "home/x", payload: "2"))
        #expect(overflows.map(\.droppedCount) == [1])
        #expect(registry.droppedCount(of: all) == 1)

        registry.confirm(all)
        registry.confirm(both)
        #expect(registry.confirmedFilters() == [
            TopicSubscription(filter: "home/#", qos: .atMostOnce),
            TopicSubscription(filter: "home/+/t", qos: .atLeastOnce),
            TopicSubscription(filter: "home/k/t", qos: .exactlyOnce),
        ])
        registry.remove(both)
        #expect(!registry.isInUse("home/k/t"))
        #expect(registry.isInUse("home/#"))
    }

    @Test func backoffGrowsToItsCapWithBoundedJitter() {
        let policy = ReconnectPolicy.exponentialBackoff(
            initialDelay: .milliseconds(500), maximumDelay: .seconds(30), multiplier: 2, jitter: 0)
        #expect((1...8).map { policy.delay(forAttempt: $0) } == [
            .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30),
        ])
        #expect(policy.delay(forAttempt: 1_000_000) == .seconds(30))

        let jittered = ReconnectPolicy.exponentialBackoff(jitter: 0.25)
        var generator = SeededGenerator(seed: 42)
        for attempt in 1...50 {
            let delay = jittered.delay(forAttempt: attempt, using: &generator)
            let full = policy.delay(forAttempt: attempt)
            #expect(delay <= full && delay >= full * 0.75)
        }
    }

    @Test(arguments: [0, 1, 100, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152])
    func packetSizeMatchesTheEncoder(payloadBytes: Int) throws {
        var properties = Properties()
        properties.userProperties = [UserProperty(name: "room", value: String(repeating: "v", count: payloadBytes % 300))]
        for version in [ProtocolVersion.v3_1_1, .v5] {
            for qos in [QoS.atMostOnce, .exactlyOnce] {
                let packet = Packet.publish(PublishPacket(
                    topic: "a/b", payload: ByteBuffer(repeating: 0x61, count: payloadBytes), qos: qos,
                    packetID: qos == .atMostOnce ? 0 : 1, properties: version == .v5 ? properties : Properties()))
                var buffer = ByteBuffer()
                try buffer.writeMQTTPacket(packet, version: version)
                #expect(try packet.encodedSize(version: version) == buffer.readableBytes)
            }
            let filters = [TopicSubscription(filter: String(repeating: "f", count: payloadBytes % 60_000), qos: .atLeastOnce)]
            let subscribe = Packet.subscribe(SubscribePacket(packetID: 1, subscriptions: filters))
            var buffer = ByteBuffer()
            try buffer.writeMQTTPacket(subscribe, version: version)
            #expect(try subscribe.encodedSize(version: version) == buffer.readableBytes)
        }
    }
}

extension OutboundPublishes.Acknowledgement {
    /// The kind of acknowledgement, without the promise.
    var kind: String {
        switch self {
        case .completed: "completed"
        case .release: "release"
        case .unexpected: "unexpected"
        }
    }
}

