import MQTT
import MQTTBroker
import NIOCore
import TestSupport
import Testing

@Suite("MQTT 5: CONNECT, CONNACK, DISCONNECT and sessions", .timeLimit(.minutes(5)))
struct V5ConnectTests {
    @Test("CONNACK says what the broker offers and the limits a client must keep to")
    func connackStatesTheBrokersLimits() async throws {
        try await withBroker({ $0.maximumInflightMessages = 20; $0.maximumPacketSize = 65_536 }) { _, port in
            let (_, connack) = try await RawClient.connected5(to: port, clientID: "lamp")
            #expect(connack.reasonCode == .success && !connack.sessionPresent)
            let properties = connack.properties
            #expect(properties.receiveMaximum == 20)
            #expect(properties.maximumPacketSize == 65_536)
            #expect(properties.topicAliasMaximum == 10)
            #expect(properties.retainAvailable == true && properties.wildcardSubscriptionAvailable == true)
            #expect(properties.subscriptionIdentifierAvailable == true && properties.sharedSubscriptionAvailable == true)
            #expect(properties.maximumQoS == nil, "QoS 2 is supported: no Maximum QoS")
            #expect(properties.assignedClientIdentifier == nil)
        }
    }

    @Test("an empty client id gets one assigned, with or without clean start; response information when asked")
    func emptyClientIDIsAssignedOne() async throws {
        try await withBroker { broker, port in
            let (client, connack) = try await RawClient.connected5(to: port, clientID: "", cleanStart: false) {
                $0.properties.requestResponseInformation = true
                $0.properties.sessionExpiryInterval = 60
            }
            let assigned = try #require(connack.properties.assignedClientIdentifier)
            #expect(connack.reasonCode == .success && assigned.hasPrefix("auto-"))
            #expect(connack.properties.responseInformation == "responses/" + assigned)
            #expect(try await broker.status().clientsConnected == 1)
            await client.drop()
        }
    }

    @Test("an authentication method the broker does not know gets 0x8C, as Mosquitto answers")
    func unknownAuthenticationMethodIsRefused() async throws {
        try await withBroker { _, port in
            let (client, connack) = try await RawClient.connected5(to: port, clientID: "scram") {
                $0.properties.authenticationMethod = "SCRAM-SHA-1"
            }
            #expect(connack.reasonCode == .badAuthenticationMethod)
            #expect(await client.waitForClose())
        }
    }

    @Test("a session with expiry 0 ends with its connection; a longer one is there when the client returns")
    func sessionExpiryDecidesWhetherTheSessionOutlivesTheConnection() async throws {
        try await withBroker { broker, port in
            let (brief, _) = try await RawClient.connected5(to: port, clientID: "brief", cleanStart: false)
            _ = try await brief.subscribe("t", qos: .atLeastOnce)
            try await brief.send(.disconnect(DisconnectPacket()))
            #expect(await brief.waitForClose())
            let (briefAgain, briefConnack) = try await RawClient.connected5(to: port, clientID: "brief", cleanStart: false)
            #expect(!briefConnack.sessionPresent)

            let (lasting, _) = try await RawClient.connected5(to: port, clientID: "lasting") {
                $0.properties.sessionExpiryInterval = 300
            }
            _ = try await lasting.subscribe("t", qos: .atLeastOnce)
            await lasting.drop()
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            try await publisher.send(publish5("t", "while away", qos: .atLeastOnce, id: 1))
            _ = try await publisher.next()
            let (back, connack) = try await RawClient.connected5(to: port, clientID: "lasting", cleanStart: false) {
                $0.properties.sessionExpiryInterval = 300
            }
            #expect(connack.sessionPresent)
            #expect(try await back.nextAcknowledged().payload.string == "while away")
            #expect(try await broker.status().clientsTotal == 3, "brief, lasting and pub")
            _ = briefAgain
        }
    }

    @Test("a session expiry interval of 1 s ends the session a second after its client left")
    func aShortSessionExpires() async throws {
        try await withBroker { broker, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "short") {
                $0.properties.sessionExpiryInterval = 1
            }
            _ = try await client.subscribe("t", qos: .atLeastOnce)
            try await client.send(.disconnect(DisconnectPacket()))
            #expect(await client.waitForClose())
            // That it outlives the connection at all is the 300 s session's test: a second is too short to look.
            let deadline = ContinuousClock.now + .seconds(30)
            while try await broker.status().clientsTotal > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await broker.status().subscriptions == 0)
            let (_, connack) = try await RawClient.connected5(to: port, clientID: "short", cleanStart: false)
            #expect(!connack.sessionPresent)
        }
    }

    @Test("DISCONNECT may shorten the session's expiry, but not give one to a session that had none")
    func disconnectChangesTheSessionExpiry() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "changing") {
                $0.properties.sessionExpiryInterval = 300
            }
            var properties = Properties()
            properties.sessionExpiryInterval = 0
            try await client.send(.disconnect(DisconnectPacket(properties: properties)))
            #expect(await client.waitForClose())
            let (noExpiry, connack) = try await RawClient.connected5(to: port, clientID: "changing", cleanStart: false)
            #expect(!connack.sessionPresent)

            properties.sessionExpiryInterval = 60
            try await noExpiry.send(.disconnect(DisconnectPacket(properties: properties)))
            #expect(try await noExpiry.nextDisconnect().reasonCode == .protocolError)
            #expect(await noExpiry.waitForClose())
        }
    }

    @Test("the broker says why it ends a connection: taken over, malformed, too large, protocol error")
    func theBrokerSendsDisconnectWithAReason() async throws {
        try await withBroker({ $0.maximumPacketSize = 1024 }) { _, port in
            let (first, _) = try await RawClient.connected5(to: port, clientID: "twin")
            let (_, connack) = try await RawClient.connected5(to: port, clientID: "twin")
            #expect(connack.reasonCode == .success)
            let takenOver = try await first.nextDisconnect()
            #expect(takenOver.reasonCode == .sessionTakenOver)
            #expect(takenOver.properties.reasonString?.contains("taken over") == true)
            #expect(await first.waitForClose())

            let (malformed, _) = try await RawClient.connected5(to: port, clientID: "malformed")
            // PUBLISH QoS 0, topic "t", a property length of 1 and no property after it.
            try await malformed.send(bytes: [0x30, 0x05, 0x00, 0x01, 0x74, 0x01, 0x01])
            #expect(try await malformed.nextDisconnect().reasonCode == .malformedPacket)

            let (twice, _) = try await RawClient.connected5(to: port, clientID: "twice")
            // PUBLISH QoS 0, topic "t", Content Type "a" and again "b": a property twice is a protocol error.
            try await twice.send(bytes: [0x30, 0x0C, 0x00, 0x01, 0x74, 0x08, 0x03, 0x00, 0x01, 0x61, 0x03, 0x00, 0x01, 0x62])
            #expect(try await twice.nextDisconnect().reasonCode == .protocolError)

            let (misplaced, _) = try await RawClient.connected5(to: port, clientID: "misplaced")
            // PUBLISH QoS 0, topic "t", Session Expiry Interval 1: a property this packet cannot carry.
            try await misplaced.send(bytes: [0x30, 0x09, 0x00, 0x01, 0x74, 0x05, 0x11, 0x00, 0x00, 0x00, 0x01])
            #expect(try await misplaced.nextDisconnect().reasonCode == .malformedPacket)

            let (large, _) = try await RawClient.connected5(to: port, clientID: "large")
            try await large.send(publish5("t", String(repeating: "x", count: 2000)))
            #expect(try await large.nextDisconnect().reasonCode == .packetTooLarge)

            let (auth, _) = try await RawClient.connected5(to: port, clientID: "auth")
            try await auth.send(.auth(AuthPacket(reasonCode: .reAuthenticate)))
            #expect(try await auth.nextDisconnect().reasonCode == .protocolError)
        }
    }

    @Test("the broker's shutdown is announced to MQTT 5 clients with 0x8B")
    func shutdownIsAnnounced() async throws {
        var configuration = BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil)
        configuration.maximumConnections = 10
        let broker = MQTTBroker(configuration: configuration, logger: quietLogger)
        try await broker.start()
        let port = try #require(broker.boundAddresses.first?.port)
        let (client, _) = try await RawClient.connected5(to: port, clientID: "listener")
        await broker.shutdown()
        #expect(try await client.nextDisconnect().reasonCode == .serverShuttingDown)
    }

    @Test("max_keepalive: an MQTT 5 client asking for more, or none, is told the maximum; a 3.1.1 client is refused with 0x02")
    func maximumKeepAlive() async throws {
        try await withBroker({ $0.maximumKeepAlive = 30 }) { _, port in
            for asked: UInt16 in [0, 60] {
                let (client, connack) = try await RawClient.connected5(to: port, clientID: "v5-\(asked)") { $0.keepAlive = asked }
                #expect(connack.reasonCode == .success && connack.properties.serverKeepAlive == 30)
                await client.drop()
            }
            let (within, connack) = try await RawClient.connected5(to: port, clientID: "within") { $0.keepAlive = 20 }
            #expect(connack.properties.serverKeepAlive == nil)
            await within.drop()
            let (old, refused) = try await RawClient.connected(to: port, clientID: "v3", keepAlive: 60)
            #expect(refused.returnCode == .identifierRejected)
            #expect(await old.waitForClose())
            let (fine, accepted) = try await RawClient.connected(to: port, clientID: "v3-fine", keepAlive: 30)
            #expect(accepted.returnCode == .accepted)
            await fine.drop()
        }
    }

    @Test("a keepalive timeout is announced with 0x8D")
    func keepAliveTimeoutIsAnnounced() async throws {
        try await withBroker { _, port in
            let (client, _) = try await RawClient.connected5(to: port, clientID: "sleepy") { $0.keepAlive = 1 }
            #expect(try await client.nextDisconnect(timeout: .seconds(10)).reasonCode == .keepAliveTimeout)
        }
    }
}
