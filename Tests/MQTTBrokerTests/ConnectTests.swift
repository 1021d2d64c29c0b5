import MQTT
import MQTTBroker
import NIOCore
import Testing

@Suite("CONNECT and connection lifecycle")
struct ConnectTests {
    @Test func acceptsMQTT311AndMQTT31() async throws {
        try await withBroker { _, port in
            let (_, modern) = try await RawClient.connected(to: port, clientID: "a", version: .v3_1_1)
            #expect(modern.returnCode == .accepted)
            let (_, legacy) = try await RawClient.connected(to: port, clientID: "b", version: .v3_1)
            #expect(legacy.returnCode == .accepted)
        }
    }

    @Test func unsupportedProtocolLevelGetsReturnCode1AndClose() async throws {
        try await withBroker { _, port in
            let client = try await RawClient.connect(to: port)
            // CONNECT, protocol "MQTT" level 5, clean session, keepalive 60, client id "x".
            try await client.send(bytes: [0x10, 13, 0, 4, 0x4D, 0x51, 0x54, 0x54, 5, 0x02, 0, 60, 0, 1, 0x78])
            #expect(try await client.next() == .connack(ConnAckPacket(returnCode: .unacceptableProtocolVersion)))
            #expect(await client.waitForClose())
        }
    }

    @Test func emptyClientIDWithCleanSessionIsAccepted() async throws {
        try await withBroker { broker, port in
            let (client, connack) = try await RawClient.connected(to: port, clientID: "", cleanSession: true)
            #expect(connack.returnCode == .accepted)
            #expect(try await broker.status().clientsConnected == 1)
            await client.drop()
        }
    }

    @Test func emptyClientIDWithoutCleanSessionIsRejected() async throws {
        try await withBroker { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send(.connect(ConnectPacket(clientID: "", cleanSession: false)))
            #expect(try await client.next() == .connack(ConnAckPacket(returnCode: .identifierRejected)))
            #expect(await client.waitForClose())
        }
    }

    @Test func firstPacketMustBeConnect() async throws {
        try await withBroker { _, port in
            let client = try await RawClient.connect(to: port)
            try await client.send(.pingreq)
            #expect(await client.waitForClose())
        }
    }

    @Test func secondConnectIsAProtocolViolation() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected(to: port, clientID: "twice")
            try await client.send(.connect(ConnectPacket(clientID: "twice")))
            #expect(await client.waitForClose())
        }
    }

    @Test func silentConnectionIsClosedAfterConnectTimeout() async throws {
        try await withBroker({ $0.connectTimeout = .milliseconds(200) }) { _, port in
            let client = try await RawClient.connect(to: port)
            #expect(await client.waitForClose(timeout: .seconds(3)))
        }
    }

    @Test func secondConnectionWithSameClientIDTakesOver() async throws {
        try await withBroker { _, port in
            let (first, _) = try await RawClient.connected(to: port, clientID: "sensor")
            let (second, connack) = try await RawClient.connected(to: port, clientID: "sensor")
            #expect(connack.returnCode == .accepted)
            #expect(await first.waitForClose())
            try await second.send(.pingreq)
            #expect(try await second.next() == .pingresp)
        }
    }

    @Test func keepAliveIsEnforcedAtOneAndAHalfTimes() async throws {
        try await withBroker { _, port in
            // Timed from before CONNECT: the broker's clock cannot start earlier.
            let start = ContinuousClock.now
            let (client, _) = try await RawClient.connected(to: port, clientID: "sleepy", keepAlive: 1)
            #expect(await client.waitForClose(timeout: .seconds(5)))
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(1400))
        }
    }

    @Test func pingsKeepAConnectionAlive() async throws {
        try await withBroker { _, port in
            // Keepalive 2 s allows 3 s of silence; pings every 0.25 s from the
            // client's event loop for 3 such windows leave room for a busy machine.
            let (client, _) = try await RawClient.connected(to: port, clientID: "awake", keepAlive: 2)
            let pinger = try client.pingRepeatedly(every: .milliseconds(250))
            defer { pinger.cancel() }
            try await Task.sleep(for: .seconds(9))
            pinger.cancel()
            #expect(!client.isClosed)
            #expect(client.pingResponseCount > 0)
        }
    }

    @Test func severalListenersAtOnce() async throws {
        let broker = MQTTBroker(configuration: BrokerConfiguration(
            listeners: [.init(host: "127.0.0.1", port: 0), .init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil), logger: quietLogger)
        try await broker.start()
        let ports = broker.boundAddresses.compactMap(\.port)
        #expect(ports.count == 2)
        let (subscriber, _) = try await RawClient.connected(to: ports[0], clientID: "on-first")
        _ = try await subscriber.subscribe("x")
        let (publisher, _) = try await RawClient.connected(to: ports[1], clientID: "on-second")
        try await publisher.send(.publish(PublishPacket(topic: "x", payload: ByteBuffer(string: "across"))))
        #expect(try await subscriber.nextPublish().payload.string == "across")
        await broker.shutdown()
    }

    @Test func shutdownClosesClientsAndReleasesThePort() async throws {
        let broker = MQTTBroker(configuration: BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil), logger: quietLogger)
        try await broker.start()
        let port = try #require(broker.boundAddresses.first?.port)
        let (client, _) = try await RawClient.connected(to: port, clientID: "bye")
        await broker.shutdown()
        #expect(await client.waitForClose())
        let again = MQTTBroker(configuration: BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: port)], systemTopicInterval: nil), logger: quietLogger)
        try await again.start()
        await again.shutdown()
    }
}
