import MQTT
import MQTTBroker
import NIOCore
import Testing

@Suite("MQTT 5: receive maximum, maximum packet size, topic aliases, will delay", .timeLimit(.minutes(5)))
struct V5FlowTests {
    @Test("a client's Receive Maximum bounds the messages it is sent unacknowledged")
    func receiveMaximumIsHonoured() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "small") { $0.properties.receiveMaximum = 2 }
            _ = try await client.subscribe("t", qos: .atLeastOnce)
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            for index in 1...3 { try await publisher.send(publish5("t", "m\(index)", qos: .atLeastOnce, id: UInt16(index))) }
            let first = try await client.nextPublish()
            let second = try await client.nextPublish()
            #expect([first, second].map(\.payload.string) == ["m1", "m2"])
            try await client.expectNothing(after: [publisher])
            try await client.send(.puback(AckPacket(packetID: first.packetID)))
            #expect(try await client.nextPublish().payload.string == "m3")
        }
    }

    @Test("a client that sends more QoS 2 messages than the broker's Receive Maximum is disconnected with 0x93")
    func receiveMaximumIsEnforced() async throws {
        try await withBroker({ $0.maximumInflightMessages = 2 }) { _, port in
            let (client, connack) = try await RawClient.connected5(to: port, clientID: "eager")
            #expect(connack.properties.receiveMaximum == 2)
            for id in 1...2 {
                try await client.send(publish5("t", "m", qos: .exactlyOnce, id: UInt16(id)))
                guard case .pubrec = try await client.next() else { throw RawClientError.unexpected("no PUBREC") }
            }
            try await client.send(publish5("t", "m", qos: .exactlyOnce, id: 3))
            #expect(try await client.nextDisconnect().reasonCode == .receiveMaximumExceeded)
            #expect(await client.waitForClose())
        }
    }

    @Test("a message larger than a client's Maximum Packet Size is not sent to it, and is counted; the next one is")
    func maximumPacketSizeOfTheClient() async throws {
        try await withBroker { broker, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "tiny") { $0.properties.maximumPacketSize = 64 }
            _ = try await client.subscribe("t", qos: .atLeastOnce)
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            try await publisher.send(publish5("t", String(repeating: "x", count: 100), qos: .atLeastOnce, id: 1))
            try await publisher.send(publish5("t", String(repeating: "y", count: 100)))
            try await publisher.send(publish5("t", "small", qos: .atLeastOnce, id: 2))
            #expect(try await client.nextAcknowledged().payload.string == "small")
            try await client.expectNothing(after: [publisher])
            #expect(try await broker.status().droppedMessages == 2)
        }
    }

    @Test("a client's topic aliases stand for their topics; an alias above the maximum is 0x94, one never set up 0x82")
    func inboundTopicAliases() async throws {
        try await withBroker({ $0.maximumTopicAlias = 2 }) { _, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "sub")
            _ = try await subscriber.subscribe("home/#")
            let (client, connack) = try await RawClient.connected5(to: port, clientID: "aliaser")
            #expect(connack.properties.topicAliasMaximum == 2)
            try await client.send(publish5("home/kitchen/temp", "20") { $0.topicAlias = 1 })
            try await client.send(publish5("", "21") { $0.topicAlias = 1 })
            try await client.send(publish5("home/hall/temp", "18") { $0.topicAlias = 1 })
            try await client.send(publish5("", "19") { $0.topicAlias = 1 })
            let received = [try await subscriber.nextPublish(), try await subscriber.nextPublish(),
                            try await subscriber.nextPublish(), try await subscriber.nextPublish()]
            #expect(received.map(\.topic) == ["home/kitchen/temp", "home/kitchen/temp", "home/hall/temp", "home/hall/temp"])
            #expect(received.map(\.payload.string) == ["20", "21", "18", "19"])

            try await client.send(publish5("", "?") { $0.topicAlias = 2 })
            #expect(try await client.nextDisconnect().reasonCode == .protocolError)
            let (over, _) = try await RawClient.connected5(to: port, clientID: "over")
            try await over.send(publish5("home/x", "?") { $0.topicAlias = 3 })
            #expect(try await over.nextDisconnect().reasonCode == .topicAliasInvalid)
        }
    }

    @Test("the broker gives a client that allows them topic aliases: the topic once, then the alias alone")
    func outboundTopicAliases() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "short") { $0.properties.topicAliasMaximum = 1 }
            _ = try await client.subscribe("home/#")
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "pub")
            for (topic, payload) in [("home/a", "1"), ("home/a", "2"), ("home/b", "3"), ("home/a", "4")] {
                try await publisher.send(.publish(PublishPacket(topic: topic, payload: ByteBuffer(string: payload))))
            }
            let received = [try await client.nextPublish(), try await client.nextPublish(),
                            try await client.nextPublish(), try await client.nextPublish()]
            #expect(received.map(\.topic) == ["home/a", "", "home/b", ""])
            #expect(received.map(\.properties.topicAlias) == [1, 1, nil, 1])
        }
    }

    @Test("a will with a delay is sent after it, or when the session ends first; a client back in time cancels it")
    func willDelay() async throws {
        try await withBroker { _, port in
            let (watcher, _) = try await RawClient.connected5(to: port, clientID: "watcher")
            _ = try await watcher.subscribe("status/#")
            func will(_ device: String, delay: UInt32) -> Will {
                var properties = Properties()
                properties.willDelayInterval = delay
                return Will(topic: "status/\(device)", payload: ByteBuffer(string: "offline"), properties: properties)
            }
            // A session without expiry ends at once, and its will with it, whatever the delay.
            let (brief, _) = try await RawClient.connected5(to: port, clientID: "brief") { $0.will = will("brief", delay: 3600) }
            await brief.drop()
            #expect(try await watcher.nextPublish().topic == "status/brief")

            // Back in time: the will is cancelled. Had it not been, the session's end would send it now.
            let (flaky, _) = try await RawClient.connected5(to: port, clientID: "flaky") {
                $0.will = will("flaky", delay: 3600)
                $0.properties.sessionExpiryInterval = 60
            }
            await flaky.drop()
            let (back, _) = try await RawClient.connected5(to: port, clientID: "flaky", cleanStart: false) {
                $0.properties.sessionExpiryInterval = 60
            }
            var endNow = Properties()
            endNow.sessionExpiryInterval = 0
            try await back.send(.disconnect(DisconnectPacket(properties: endNow)))
            #expect(await back.waitForClose())
            try await watcher.send(publish5("status/marker", "after flaky's session ended"))
            #expect(try await watcher.nextPublish().topic == "status/marker")

            // Gone for good: its will comes after the delay.
            let started = ContinuousClock.now
            let (gone, _) = try await RawClient.connected5(to: port, clientID: "gone") {
                $0.will = will("gone", delay: 1)
                $0.properties.sessionExpiryInterval = 60
            }
            await gone.drop()
            #expect(try await watcher.nextPublish().topic == "status/gone")
            #expect(ContinuousClock.now - started >= .seconds(1))
            try await watcher.expectNothing()
        }
    }

    @Test("DISCONNECT with reason 0x04 sends the will, as if the connection were lost")
    func disconnectWithWillMessage() async throws {
        try await withBroker { _, port in
            let (watcher, _) = try await RawClient.connected5(to: port, clientID: "watcher")
            _ = try await watcher.subscribe("status/#")
            let (client, _) = try await RawClient.connected5(to: port, clientID: "leaving") {
                $0.will = Will(topic: "status/leaving", payload: ByteBuffer(string: "gone"))
            }
            try await client.send(.disconnect(DisconnectPacket(reasonCode: .disconnectWithWillMessage)))
            #expect(try await watcher.nextPublish().payload.string == "gone")
        }
    }
}
