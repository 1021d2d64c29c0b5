import MQTT
import MQTTBroker
import NIOCore
import Testing

@Suite("MQTT 5: properties, subscription options, reason codes", .timeLimit(.minutes(5)))
struct V5DeliveryTests {
    @Test("a message's properties reach MQTT 5 subscribers unchanged, user properties in order; 3.1.1 gets the message alone")
    func propertiesPassThrough() async throws {
        try await withBroker { broker, port in
            let (v5, _) = try await RawClient.connected5(to: port, clientID: "v5")
            _ = try await v5.subscribe("req", qos: .atLeastOnce)
            let (v3, _) = try await RawClient.connected(to: port, clientID: "v3")
            _ = try await v3.subscribe("req", qos: .atLeastOnce)
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            let users = [UserProperty(name: "b", value: "2"), UserProperty(name: "a", value: "1"), UserProperty(name: "b", value: "3")]
            try await publisher.send(publish5("req", "{\"on\":true}", qos: .atLeastOnce, id: 1) {
                $0.payloadFormatIndicator = .utf8
                $0.contentType = "application/json"
                $0.responseTopic = "resp/pub"
                $0.correlationData = ByteBuffer(bytes: [0, 1, 2, 0xFF])
                $0.userProperties = users
            })
            guard case .puback(let ack) = try await publisher.next() else { throw RawClientError.unexpected("no PUBACK") }
            #expect(ack.reasonCode == .success)
            #expect(try await broker.status().publishReceived == 1, "MQTT 5 traffic is counted as 3.1.1's")
            let received = try await v5.nextAcknowledged()
            #expect(received.properties.payloadFormatIndicator == .utf8)
            #expect(received.properties.contentType == "application/json")
            #expect(received.properties.responseTopic == "resp/pub")
            #expect(received.properties.correlationData == ByteBuffer(bytes: [0, 1, 2, 0xFF]))
            #expect(received.properties.userProperties == users)
            #expect(received.properties.topicAlias == nil, "v5 allowed no topic aliases")
            let plain = try await v3.nextAcknowledged()
            #expect(plain.payload.string == "{\"on\":true}" && plain.properties.isEmpty)
        }
    }

    @Test("PUBACK says when nobody subscribed (0x10) and when the ACL refused the topic (0x87)")
    func publishAcknowledgementsCarryReasons() async throws {
        try await withBroker { _, port in
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            try await publisher.send(publish5("nobody/listens", "x", qos: .atLeastOnce, id: 1))
            guard case .puback(let ack) = try await publisher.next() else { throw RawClientError.unexpected("no PUBACK") }
            #expect(ack.reasonCode == .noMatchingSubscribers)
            try await publisher.send(publish5("$SYS/broker/forged", "x", qos: .exactlyOnce, id: 2))
            guard case .pubrec(let rec) = try await publisher.next() else { throw RawClientError.unexpected("no PUBREC") }
            #expect(rec.reasonCode == .notAuthorized)
            #expect(rec.properties.reasonString == "not authorized to publish on \"$SYS/broker/forged\"")
            // The flow ended with the error: a PUBREL for it is answered "not found".
            try await publisher.send(.pubrel(AckPacket(packetID: 2)))
            guard case .pubcomp(let comp) = try await publisher.next() else { throw RawClientError.unexpected("no PUBCOMP") }
            #expect(comp.reasonCode == .packetIdentifierNotFound)
        }
    }

    @Test("SUBACK refuses an invalid filter with 0x8F; UNSUBACK says which filters had no subscription")
    func subscribeAndUnsubscribeReasonCodes() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "c")
            let codes = try await client.subscribe([
                .init(filter: "ok/#", qos: .exactlyOnce), .init(filter: "bad/#/x", qos: .atMostOnce),
                .init(filter: "$share/g+/x", qos: .atMostOnce),
            ])
            #expect(codes.map(\.reasonCode) == [.grantedQoS2, .topicFilterInvalid, .topicFilterInvalid])
            let (quiet, _) = try await RawClient.connected5(to: port, clientID: "quiet") {
                $0.properties.requestProblemInformation = false
            }
            try await quiet.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: [.init(filter: "bad/#/x", qos: .atMostOnce)])))
            guard case .suback(let silent) = try await quiet.next() else { throw RawClientError.unexpected("no SUBACK") }
            #expect(silent.properties.reasonString == nil, "no problem information was asked for")
            try await client.send(.subscribe(SubscribePacket(packetID: 3, subscriptions: [.init(filter: "bad/#/x", qos: .atMostOnce)])))
            guard case .suback(let told) = try await client.next() else { throw RawClientError.unexpected("no SUBACK") }
            #expect(told.properties.reasonString == "refused: \"bad/#/x\" (Topic Filter invalid (0x8F))")
            try await client.send(.unsubscribe(UnsubscribePacket(packetID: 2, filters: ["ok/#", "never/subscribed"])))
            guard case .unsuback(let unsuback) = try await client.next() else { throw RawClientError.unexpected("no UNSUBACK") }
            #expect(unsuback.reasonCodes == [.success, .noSubscriptionExisted])
        }
    }

    @Test("subscription identifiers come with the messages their subscriptions match, all of them when several do")
    func subscriptionIdentifiersAreDelivered() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "c")
            var first = Properties()
            first.subscriptionIdentifiers = [7]
            _ = try await client.subscribe([.init(filter: "home/+/temp", qos: .atLeastOnce)], properties: first, packetID: 1)
            var second = Properties()
            second.subscriptionIdentifiers = [268_435_455]
            _ = try await client.subscribe([.init(filter: "home/#", qos: .atMostOnce)], properties: second, packetID: 2)
            _ = try await client.subscribe([.init(filter: "home/hall/temp", qos: .atMostOnce)], packetID: 3)
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            try await publisher.send(publish5("home/hall/temp", "20", qos: .atLeastOnce, id: 1))
            try await publisher.send(publish5("home/hall/door", "open", qos: .atLeastOnce, id: 2))
            let both = try await client.nextAcknowledged()
            #expect(both.qos == .atLeastOnce)
            #expect(Set(both.properties.subscriptionIdentifiers) == [7, 268_435_455])
            let one = try await client.nextPublish()
            #expect(one.payload.string == "open" && one.properties.subscriptionIdentifiers == [268_435_455])
        }
    }

    @Test("No Local keeps a client's own messages from it; Retain As Published keeps the RETAIN flag")
    func noLocalAndRetainAsPublished() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "echo")
            _ = try await client.subscribe([
                .init(filter: "mine", qos: .atMostOnce, noLocal: true),
                .init(filter: "kept", qos: .atMostOnce, retainAsPublished: true),
                .init(filter: "cleared", qos: .atMostOnce),
            ])
            try await client.send(publish5("mine", "not back to me"))
            try await client.send(publish5("kept", "r", retain: true))
            try await client.send(publish5("cleared", "r", retain: true))
            let kept = try await client.nextPublish()
            #expect(kept.topic == "kept" && kept.retain)
            let cleared = try await client.nextPublish()
            #expect(cleared.topic == "cleared" && !cleared.retain)
            try await client.expectNothing()
            let (other, _) = try await RawClient.connected5(to: port, clientID: "other")
            try await other.send(publish5("mine", "from another"))
            #expect(try await client.nextPublish().payload.string == "from another")
        }
    }

    @Test("Retain Handling: 0 sends retained messages at every subscribe, 1 only for a new subscription, 2 never")
    func retainHandling() async throws {
        try await withBroker { _, port in
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            try await publisher.send(publish5("state", "on", qos: .atLeastOnce, id: 1, retain: true))
            _ = try await publisher.next()
            let (client, _) = try await RawClient.connected5(to: port, clientID: "c")
            for (round, handling) in [(1, RetainHandling.sendOnSubscribe), (2, .sendOnSubscribe)] {
                _ = try await client.subscribe([.init(filter: "state", qos: .atMostOnce, retainHandling: handling)], packetID: UInt16(round))
                let retained = try await client.nextPublish()
                #expect(retained.retain && retained.payload.string == "on")
            }
            let (once, _) = try await RawClient.connected5(to: port, clientID: "once")
            _ = try await once.subscribe([.init(filter: "state", qos: .atMostOnce, retainHandling: .sendOnNewSubscription)])
            #expect(try await once.nextPublish().retain)
            _ = try await once.subscribe([.init(filter: "state", qos: .atMostOnce, retainHandling: .sendOnNewSubscription)], packetID: 2)
            try await once.expectNothing()
            let (never, _) = try await RawClient.connected5(to: port, clientID: "never")
            _ = try await never.subscribe([.init(filter: "state", qos: .atMostOnce, retainHandling: .doNotSend)])
            try await never.expectNothing()
        }
    }

    @Test("a message's expiry counts down while it waits; an expired one is not delivered, queued or retained")
    func messageExpiry() async throws {
        try await withBroker { broker, port in
            let (away, _) = try await RawClient.connected5(to: port, clientID: "away") { $0.properties.sessionExpiryInterval = 300 }
            _ = try await away.subscribe("news", qos: .atLeastOnce)
            await away.drop()
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            try await publisher.send(publish5("news", "stale", qos: .atLeastOnce, id: 1, retain: true) { $0.messageExpiryInterval = 1 })
            try await publisher.send(publish5("news", "fresh", qos: .atLeastOnce, id: 2) { $0.messageExpiryInterval = 3600 })
            _ = try await publisher.next()
            _ = try await publisher.next()
            // The feature is time itself: the first message must outlive its second.
            try await Task.sleep(for: .milliseconds(1500))
            let (back, _) = try await RawClient.connected5(to: port, clientID: "away", cleanStart: false) {
                $0.properties.sessionExpiryInterval = 300
            }
            let fresh = try await back.nextAcknowledged()
            #expect(fresh.payload.string == "fresh")
            let left = try #require(fresh.properties.messageExpiryInterval)
            #expect(left < 3600 && left >= 3590)
            try await back.expectNothing()
            #expect(try await broker.status().expiredMessages == 1)
            let (late, _) = try await RawClient.connected5(to: port, clientID: "late")
            _ = try await late.subscribe("news")
            try await late.expectNothing()
        }
    }
}
