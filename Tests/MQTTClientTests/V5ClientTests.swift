import Foundation
import MQTT
import MQTTBroker
@_spi(Testing) import MQTTClient
import NIOCore
import TestSupport
import Testing

/// The client at MQTT 5: against the real Mosquitto where it can show the
/// feature, against our broker where Mosquitto lacks it (server topic
/// aliases) or for what only our broker's tests control.
@Suite("MQTTClient at MQTT 5", .timeLimit(.minutes(5)))
struct V5ClientTests {
    private static func v5(_ configuration: inout MQTTClientConfiguration) {
        configuration.protocolVersion = .v5
    }

    @Test("properties reach the real Mosquitto and come back unchanged, user properties in order", .enabled(if: Peers.enabled("mosquitto")))
    func propertiesThroughMosquitto() async throws {
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient(Self.v5)
        defer { Task { await client.disconnect() } }
        let collector = MessageCollector()
        _ = try await client.subscribe("lab/#", qos: .atLeastOnce, handler: collector.handler)
        var message = MQTTMessage(topic: "lab/request", payload: ByteBuffer(string: "{}"), qos: .exactlyOnce)
        message.properties.responseTopic = "lab/answers"
        message.properties.correlationData = ByteBuffer(bytes: [1, 2, 3])
        message.properties.contentType = "application/json"
        message.properties.userProperties = [.init(name: "b", value: "2"), .init(name: "a", value: "1")]
        try await client.publish(message)
        let received = try await collector.waitFor(count: 1)[0]
        #expect(received.properties.responseTopic == "lab/answers")
        #expect(received.properties.correlationData == ByteBuffer(bytes: [1, 2, 3]))
        #expect(received.properties.contentType == "application/json")
        #expect(received.properties.userProperties == message.properties.userProperties)
    }

    @Test(
        "with a session expiry, a reconnect resumes the session: messages sent while away arrive",
        .enabled(if: Peers.enabled("mosquitto", "mosquitto_pub")))
    func sessionExpiryBringsBackWhatWasMissed() async throws {
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient(clientID: "resumer") {
            Self.v5(&$0)
            $0.sessionExpiryInterval = 300
            $0.reconnect = .exponentialBackoff(initialDelay: .seconds(1), maximumDelay: .seconds(1), jitter: 0)
        }
        defer { Task { await client.disconnect() } }
        let events = client.connectionEvents()
        let collector = MessageCollector()
        _ = try await client.subscribe("lab/missed", qos: .atLeastOnce, handler: collector.handler)
        client.dropConnection()
        // Published while the client is away (it reconnects after a second).
        let publisher = try Peers.require("mosquitto_pub")
        let result = try await run(publisher, [
            "-h", "127.0.0.1", "-p", "\(broker.port)", "-V", "mqttv5", "-t", "lab/missed", "-m", "while away", "-q", "1",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        var resumed: Bool?
        for await event in events {
            if case .connected(let sessionPresent) = event { resumed = sessionPresent; break }
        }
        #expect(resumed == true)
        #expect(try await collector.waitFor(count: 1).map(\.payloadString) == ["while away"])
    }

    @Test("a refused publish and the broker's DISCONNECT surface as typed errors with their reason codes")
    func reasonCodesAreTypedErrors() async throws {
        try await withOurBroker { port in
            let client = try await MQTTClient.connected(port: port, clientID: "twin", Self.v5)
            let events = client.connectionEvents()
            await #expect(throws: MQTTClientError.publishRefused(.notAuthorized, reason: "not authorized to publish on \"$SYS/forged\"")) {
                try await client.publish(topic: "$SYS/forged", payload: "x", qos: .atLeastOnce)
            }
            let twin = try await MQTTClient.connected(port: port, clientID: "twin", Self.v5)
            defer { Task { await twin.disconnect() } }
            var ended: MQTTClientError?
            for await event in events {
                if case .disconnected(let error) = event { ended = error; break }
            }
            guard case .disconnectedByBroker(let code, let reason) = ended else {
                Issue.record("expected DISCONNECT from the broker, got \(String(describing: ended))")
                return
            }
            #expect(code == .sessionTakenOver && reason?.contains("taken over") == true)
        }
    }

    @Test("the broker's Server Keep Alive replaces the client's: told 10 s, clients asking for 60 and for none stay connected")
    func serverKeepAliveIsFollowed() async throws {
        try await withOurBroker({ $0.maximumKeepAlive = 10 }) { port in
            let client = try await MQTTClient.connected(port: port, clientID: "told") {
                Self.v5(&$0)
                $0.keepAlive = .seconds(60)
            }
            defer { Task { await client.disconnect() } }
            // Asking for no keepalive at all, it is told 10 s too.
            let silent = try await MQTTClient.connected(port: port, clientID: "told-too") {
                Self.v5(&$0)
                $0.keepAlive = .zero
            }
            defer { Task { await silent.disconnect() } }
            // The broker closes a connection silent for 1.5 × 10 s; the time itself is what is tested.
            try await Task.sleep(for: .seconds(17))
            let collector = MessageCollector()
            _ = try await client.subscribe("still/here", qos: .atLeastOnce, handler: collector.handler)
            try await client.publish(topic: "still/here", payload: "yes", qos: .atLeastOnce)
            try await silent.publish(topic: "still/here", payload: "me too", qos: .atLeastOnce)
            #expect(try await collector.waitFor(count: 2).map(\.payloadString) == ["yes", "me too"])
        }
    }

    @Test("topic aliases both ways, and the broker's Receive Maximum kept: 100 QoS 2 publishes through a window of 2")
    func topicAliasesAndReceiveMaximum() async throws {
        try await withOurBroker({ $0.maximumInflightMessages = 2; $0.maximumTopicAlias = 4 }) { port in
            let client = try await MQTTClient.connected(port: port, clientID: "aliases") {
                Self.v5(&$0)
                $0.maximumInflightMessages = 50
            }
            defer { Task { await client.disconnect() } }
            let collector = MessageCollector()
            _ = try await client.subscribe("lab/+", qos: .exactlyOnce, handler: collector.handler)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    group.addTask { try await client.publish(topic: "lab/\(index % 3)", payload: "\(index)", qos: .exactlyOnce) }
                }
                try await group.waitForAll()
            }
            let received = try await collector.waitFor(count: 100)
            #expect(Set(received.map(\.payloadString)) == Set((0..<100).map(String.init)))
            #expect(received.allSatisfy { $0.topic == "lab/\(Int($0.payloadString)! % 3)" })
        }
    }
}

extension MQTTClient {
    /// A client connected to 127.0.0.1:`port`, without reconnecting.
    static func connected(
        port: Int, clientID: String, _ configure: (inout MQTTClientConfiguration) -> Void = { _ in }
    ) async throws -> MQTTClient {
        var configuration = MQTTClientConfiguration.local(port: port, clientID: clientID)
        configure(&configuration)
        let client = try MQTTClient(configuration: configuration)
        try await client.connect()
        return client
    }
}

/// Runs `body` with our broker on a port of its own, and stops it after.
func withOurBroker(
    _ configure: (inout BrokerConfiguration) -> Void = { _ in }, _ body: (Int) async throws -> Void
) async throws {
    var configuration = BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil)
    configure(&configuration)
    let broker = MQTTBroker(configuration: configuration)
    try await broker.start()
    do {
        try await body(broker.boundAddresses.first?.port ?? 0)
    } catch {
        await broker.shutdown()
        throw error
    }
    await broker.shutdown()
}
