import MQTT
import MQTTBroker
import NIOCore
import NIOPosix
import Testing

@Suite("CONNECT and connection lifecycle", .timeLimit(.minutes(5)))
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
            // CONNECT, protocol "MQTT" level 6 (no such version yet), clean session, keepalive 60, client id "x".
            try await client.send(bytes: [0x10, 13, 0, 4, 0x4D, 0x51, 0x54, 0x54, 6, 0x02, 0, 60, 0, 1, 0x78])
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
            #expect(await client.waitForClose(timeout: .seconds(30)))
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
            #expect(await client.waitForClose(timeout: .seconds(30)))
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(1400))
        }
    }

    @Test func pingsKeepAConnectionAlive() async throws {
        // A thread of its own for the client: pings wait neither for the task pool nor for other tests' clients.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await pingForTwelveSeconds(on: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    private func pingForTwelveSeconds(on group: any EventLoopGroup) async throws {
        try await withBroker { _, port in
            // Keepalive 3 s allows 4.5 s of silence; pings every 0.25 s for nearly 3 such windows.
            // CONNECT and the pings start together on the client's thread: on a loaded machine a task
            // may wait longer than the 4.5 s allowed between CONNACK and the first ping.
            let client = try await RawClient.connect(to: port, group: group)
            let pinger = try await client.send(.connect(ConnectPacket(clientID: "awake", keepAlive: 3)), thenPingEvery: .milliseconds(250))
            defer { pinger.cancel() }
            guard case .connack(let connack) = try await client.next(), connack.returnCode == .accepted else {
                throw RawClientError.unexpected("no CONNACK")
            }
            try await Task.sleep(for: .seconds(12))
            pinger.cancel()
            #expect(!client.isClosed)
            #expect(client.pingResponseCount > 0)
            await client.drop()
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
