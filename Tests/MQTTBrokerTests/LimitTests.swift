import MQTT
import MQTTBroker
import NIOCore
import Testing

@Suite("Limits and malformed input", .timeLimit(.minutes(5)))
struct LimitTests {
    /// A subscriber on `t` that must keep receiving while another connection misbehaves.
    private func bystander(port: Int) async throws -> (RawClient, RawClient) {
        let (subscriber, _) = try await RawClient.connected(to: port, clientID: "bystander")
        _ = try await subscriber.subscribe("t")
        let (publisher, _) = try await RawClient.connected(to: port, clientID: "bystander-pub")
        return (subscriber, publisher)
    }

    private func expectStillWorking(_ clients: (RawClient, RawClient), _ payload: String) async throws {
        try await clients.1.send(.publish(PublishPacket(topic: "t", payload: ByteBuffer(string: payload))))
        #expect(try await clients.0.nextPublish().payload.string == payload)
    }

    static let malformed: [(String, [UInt8])] = [
        ("PUBLISH with QoS 3", [0x36, 0x04, 0x00, 0x01, 0x74, 0x00]),
        ("QoS 0 PUBLISH with DUP", [0x38, 0x03, 0x00, 0x01, 0x74]),
        ("SUBSCRIBE with flags 0", [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x74, 0x00]),
        ("PUBREL with flags 0", [0x60, 0x02, 0x00, 0x01]),
        ("PINGREQ with flags 1", [0xC1, 0x00]),
        ("reserved packet type 0", [0x00, 0x00]),
        ("reserved packet type 15", [0xF0, 0x00]),
        ("5-byte remaining length", [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ("truncated PUBACK", [0x40, 0x01, 0x00]),
        ("PUBACK with trailing bytes", [0x40, 0x03, 0x00, 0x01, 0x00]),
        ("invalid UTF-8 topic", [0x30, 0x05, 0x00, 0x02, 0xC3, 0x28, 0x78]),
        ("U+0000 in topic", [0x30, 0x05, 0x00, 0x02, 0x61, 0x00, 0x78]),
        ("wildcard in PUBLISH topic", [0x30, 0x05, 0x00, 0x03, 0x61, 0x2F, 0x2B]),
        ("packet identifier 0", [0x32, 0x05, 0x00, 0x01, 0x74, 0x00, 0x00]),
        ("SUBSCRIBE without filters", [0x82, 0x02, 0x00, 0x01]),
        ("CONNACK from a client", [0x20, 0x02, 0x00, 0x00]),
    ]

    @Test(arguments: malformed)
    func malformedPacketClosesOnlyThatConnection(name: String, bytes: [UInt8]) async throws {
        try await withBroker { _, port in
            let others = try await bystander(port: port)
            let (offender, _) = try await RawClient.connected(to: port, clientID: "offender")
            try await offender.send(bytes: bytes)
            #expect(await offender.waitForClose(), "\(name) did not close the connection")
            try await expectStillWorking(others, "after \(name)")
        }
    }

    @Test func oversizedPacketClosesTheConnection() async throws {
        try await withBroker({ $0.maximumPacketSize = 1024 }) { _, port in
            let others = try await bystander(port: port)
            let (offender, _) = try await RawClient.connected(to: port, clientID: "big")
            let payload = ByteBuffer(repeating: 0x41, count: 2000)
            try await offender.send(.publish(PublishPacket(topic: "t", payload: payload)))
            #expect(await offender.waitForClose())
            try await others.0.expectNothing()
            try await expectStillWorking(others, "small")
        }
    }

    @Test func connectionsBeyondTheLimitAreClosed() async throws {
        try await withBroker({ $0.maximumConnections = 2 }) { broker, port in
            let (first, _) = try await RawClient.connected(to: port, clientID: "one")
            let (second, _) = try await RawClient.connected(to: port, clientID: "two")
            let third = try await RawClient.connect(to: port)
            #expect(await third.waitForClose())
            #expect(try await broker.status().refusedConnections == 1)
            for client in [first, second] {
                try await client.send(.pingreq)
                #expect(try await client.next() == .pingresp)
            }
        }
    }

    @Test func offlineQueueIsBoundedAndDropsAreCounted() async throws {
        try await withBroker({ $0.maximumQueuedMessages = 5 }) { broker, port in
            let (subscriber, _) = try await RawClient.connected(to: port, clientID: "away", cleanSession: false)
            _ = try await subscriber.subscribe("t", qos: .atLeastOnce)
            try await subscriber.send(.disconnect(DisconnectPacket()))
            #expect(await subscriber.waitForClose())
            for index in 1...8 {
                await broker.publish(MQTTMessage(topic: "t", payload: "\(index)", qos: .atLeastOnce))
            }
            #expect(try await broker.status().droppedMessages == 3)
            let (back, _) = try await RawClient.connected(to: port, clientID: "away", cleanSession: false)
            var payloads: [String] = []
            for _ in 0..<5 {
                let message = try await back.nextPublish()
                payloads.append(message.payload.string)
                try await back.send(.puback(AckPacket(packetID: message.packetID)))
            }
            #expect(payloads == ["1", "2", "3", "4", "5"])
            try await back.expectNothing()
        }
    }

    @Test func slowConsumerLosesQoS0MessagesNotTheBroker() async throws {
        try await withBroker({ $0.maximumQueuedBytes = 64 * 1024 }) { broker, port in
            let slow = try await RawClient.connect(to: port, autoRead: false)
            try await slow.send(.connect(ConnectPacket(clientID: "slow")))
            try await slow.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: [.init(filter: "flood", qos: .atMostOnce)])))
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "fast")
            // Wait until the subscription is in place before flooding.
            let deadline = ContinuousClock.now + .seconds(5)
            while try await broker.status().subscriptions == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            // Far more than the kernel's socket buffers can absorb.
            let payload = ByteBuffer(repeating: 0x42, count: 4000)
            for _ in 0..<10_000 {
                try await publisher.send(.publish(PublishPacket(topic: "flood", payload: payload)))
            }
            try await publisher.send(.pingreq)
            #expect(try await publisher.next(timeout: .seconds(30)) == .pingresp)
            let status = try await broker.status()
            #expect(status.droppedMessages > 0)
            #expect(status.clientsConnected == 2)
        }
    }

    @Test func systemTopicsReportTheBroker() async throws {
        try await withBroker({ $0.systemTopicInterval = .milliseconds(100) }) { _, port in
            let (client, _) = try await RawClient.connected(to: port, clientID: "dashboard")
            _ = try await client.subscribe("$SYS/broker/#")
            var latest: [String: String] = [:]
            let wanted = ["$SYS/broker/version", "$SYS/broker/uptime"]
            for _ in 0..<500 {
                let message = try await client.nextPublish()
                latest[message.topic] = message.payload.string
                if latest["$SYS/broker/clients/connected"] == "1" && wanted.allSatisfy({ latest[$0] != nil }) { break }
            }
            #expect(latest["$SYS/broker/version"]?.hasPrefix("homerules version ") == true)
            #expect(latest["$SYS/broker/uptime"]?.hasSuffix(" seconds") == true)
            let connected = latest["$SYS/broker/clients/connected"]
            #expect(connected == "1")
        }
    }

    @Test("QoS 1 messages for a client that does not read are bounded in bytes, in flight and queued; the rest are dropped and counted")
    func queuedBytesAreBoundedAtQoS1() async throws {
        try await withBroker { broker, port in
            let slow = try await RawClient.connect(to: port, autoRead: false)
            try await slow.send(.connect(ConnectPacket(clientID: "slow")))
            try await slow.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: [.init(filter: "big", qos: .atLeastOnce)])))
            let deadline = ContinuousClock.now + .seconds(10)
            while try await broker.status().subscriptions == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let (publisher, _) = try await RawClient.connected(to: port, clientID: "camera")
            // Ten 600 KiB messages under the defaults (1 MiB in flight, 1 MiB queued): one in flight (two
            // would pass 1 MiB), one queued (an empty queue takes any size), eight dropped.
            for index in 0..<10 {
                var payload = ByteBuffer(repeating: 0x42, count: 600 * 1024)
                payload.setString("\(index)", at: 0)
                try await publisher.send(.publish(PublishPacket(topic: "big", payload: payload, qos: .atLeastOnce, packetID: UInt16(index + 1))))
                #expect(try await publisher.next(timeout: .seconds(30)) == .puback(AckPacket(packetID: UInt16(index + 1))))
            }
            #expect(try await broker.status().droppedMessages == 8)

            try await slow.startReading()
            var received: [String] = []
            while true {
                let packet = try await slow.next(timeout: .seconds(30))
                guard case .publish(let message) = packet else { continue }  // CONNACK, SUBACK
                received.append(String(message.payloadText.prefix(1)))
                try await slow.send(.puback(AckPacket(packetID: message.packetID)))
                if received.count == 2 { break }
            }
            #expect(received == ["0", "1"])
            try await slow.send(.pingreq)
            #expect(try await slow.publishes(until: { $0 == .pingresp }).isEmpty)
        }
    }
}
