import MQTT
import MQTTBroker
import NIOCore
import Testing

/// Persistent sessions are counted while their client is away, and removed
/// after `persistent_client_expiration`, as Mosquitto does.
@Suite("Persistent sessions: counted, and expired", .timeLimit(.minutes(5)))
struct SessionExpiryTests {
    @Test func anAwayClientsSessionExpires() async throws {
        // 20 s: coming back must beat the expiration even on a loaded machine.
        try await withBroker({ $0.persistentClientExpiration = .seconds(20) }) { broker, port in
            let (device, _) = try await RawClient.connected(to: port, clientID: "device", cleanSession: false)
            _ = try await device.subscribe("commands", qos: .atLeastOnce)
            try await device.send(.disconnect(DisconnectPacket()))
            #expect(await device.waitForClose())
            // Back within the expiration: the session is there.
            let (back, connack) = try await RawClient.connected(to: port, clientID: "device", cleanSession: false)
            #expect(connack.sessionPresent)
            try await back.send(.disconnect(DisconnectPacket()))
            #expect(await back.waitForClose())
            let status = try await broker.status()
            #expect(status.clientsTotal == 1 && status.clientsConnected == 0)

            let deadline = ContinuousClock.now + .seconds(60)
            while try await broker.status().clientsTotal > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await broker.status().clientsTotal == 0)
            #expect(try await broker.status().subscriptions == 0)
            let (late, lateConnack) = try await RawClient.connected(to: port, clientID: "device", cleanSession: false)
            #expect(!lateConnack.sessionPresent)
            await late.drop()
        }
    }

    static let expirations: [(String, Int64)] = [
        ("2h", 7_200), ("14d", 1_209_600), ("1w", 604_800), ("2m", 5_184_000), ("1y", 31_536_000),
    ]

    @Test("expirations are written as Mosquitto writes them", arguments: expirations)
    func expirationsParseAsMosquittos(text: String, seconds: Int64) {
        #expect(BrokerConfiguration.parseExpiration(text) == .seconds(seconds))
    }

    @Test(arguments: ["", "14", "d", "14s", "-1d", "0d", "1.5d", "14 d"])
    func malformedExpirationsAreRefused(text: String) {
        #expect(BrokerConfiguration.parseExpiration(text) == nil)
    }
}
