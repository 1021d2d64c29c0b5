import Foundation
import MQTT
import MQTTClient
import NIOCore
import TestSupport
import Testing

/// Connecting to a real Mosquitto broker, and failing to.
@Suite(.timeLimit(.minutes(5))) struct ConnectionTests {
    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func connectsAndDisconnectsTwice() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let client = try MQTTClient(configuration: .local(port: broker.port, clientID: "lamp"))
        let events = EventRecorder(client)

        let result = try await client.connect()
        #expect(result.sessionPresent == false)
        try await broker.waitForLog("New client connected from 127.0.0.1")
        try await events.waitFor("connected") { $0 == .connected(sessionPresent: false) }

        await client.disconnect()
        await client.disconnect()
        try await broker.waitForLog("Received DISCONNECT from lamp")
        try await events.waitFor("disconnected") { $0 == .disconnected(nil) }
        await #expect(throws: MQTTClientError.notConnected) {
            try await client.publish(topic: "a", payload: "after disconnect")
        }

        // The same client may connect again.
        try await client.connect()
        await #expect(throws: MQTTClientError.alreadyConnected) { try await client.connect() }
        await client.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func speaksMQTT31() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient(clientID: "old-device") { $0.protocolVersion = .v3_1 }
        try await broker.waitForLog("as old-device (p1")
        let collector = MessageCollector()
        _ = try await client.subscribe("legacy/#", qos: .atLeastOnce, handler: collector.handler)
        try await client.publish(topic: "legacy/x", payload: "3.1", qos: .atLeastOnce)
        #expect(try await collector.waitFor(count: 1).map(\.payloadString) == ["3.1"])
        await client.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto", "mosquitto_passwd")))
    func refusedConnectNamesTheReturnCode() async throws {
        let mosquittoPasswd = try Peers.require("mosquitto_passwd")
        let directory = try TemporaryDirectory()
        let passwords = directory.file("passwords").path
        try await run(mosquittoPasswd, ["-b", "-c", passwords, "alice", "secret"])
        let broker = try await MosquittoBroker.start(extraConfig: "allow_anonymous false\npassword_file \(passwords)")

        let anonymous = try MQTTClient(configuration: .local(port: broker.port))
        let error = await #expect(throws: MQTTClientError.connectionRefused(.notAuthorized)) {
            try await anonymous.connect()
        }
        #expect(error?.description == "the MQTT broker refused the connection: not authorized (CONNACK return code 5)")

        var wrongPassword = MQTTClientConfiguration.local(port: broker.port)
        wrongPassword.username = "alice"
        wrongPassword.password = "guess"
        await #expect(throws: MQTTClientError.connectionRefused(.notAuthorized)) {
            try await MQTTClient(configuration: wrongPassword).connect()
        }

        let alice = try MQTTClient(configuration: MQTTClientConfiguration(url: "mqtt://alice:secret@127.0.0.1:\(broker.port)"))
        try await alice.connect()
        try await broker.waitForLog("u'alice'")
        await alice.disconnect()
    }

    @Test func unreachableBrokerFailsAtOnce() async throws {
        let port = try freeLoopbackPort()
        var configuration = MQTTClientConfiguration.local(port: port)
        // Far longer than the bound below: failing within it is the refusal, not the timeout.
        configuration.connectTimeout = .seconds(120)
        let client = try MQTTClient(configuration: configuration)
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: MQTTClientError.self) { try await client.connect() }
        guard case .unreachable(let host, let errorPort, _) = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        #expect(host == "127.0.0.1" && errorPort == port)
        #expect(error?.description.hasPrefix("cannot reach the MQTT broker at 127.0.0.1:\(port)") == true)
        #expect(clock.now - started < .seconds(60))
    }

    @Test func silentBrokerHitsTheConnectTimeout() async throws {
        let broker = try await ScriptedBroker(.init(connack: { _ in nil }))
        var configuration = MQTTClientConfiguration.local(port: broker.port)
        configuration.connectTimeout = .milliseconds(300)
        let client = try MQTTClient(configuration: configuration)
        await #expect(throws: MQTTClientError.connectTimeout(host: "127.0.0.1", port: broker.port, timeout: .milliseconds(300))) {
            try await client.connect()
        }
        try await broker.stop()
    }

    @Test func unansweredPingsCountAsALostConnection() async throws {
        let broker = try await ScriptedBroker(.init(answersPings: false))
        var configuration = MQTTClientConfiguration.local(port: broker.port)
        configuration.keepAlive = .seconds(1)
        configuration.pingTimeout = .milliseconds(500)
        let client = try MQTTClient(configuration: configuration)
        let events = EventRecorder(client)
        try await client.connect()
        try await broker.waitForPacket("PINGREQ") { $0 == .pingreq }
        try await events.waitFor("the loss", timeout: .seconds(30)) { $0 == .disconnected(.keepAliveTimeout) }
        try await broker.stop()
    }

    @Test func disconnectWhileReconnectingFailsWhatWaits() async throws {
        let broker = try await ScriptedBroker()
        var configuration = MQTTClientConfiguration.local(port: broker.port)
        configuration.reconnect = .exponentialBackoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(50))
        let client = try MQTTClient(configuration: configuration)
        let events = EventRecorder(client)
        try await client.connect()
        // The scripted broker never acknowledges, so this publish waits in flight.
        let waiting = Task { try await client.publish(topic: "t", payload: "unacknowledged", qos: .atLeastOnce) }
        try await broker.waitForPacket("PUBLISH") { if case .publish = $0 { true } else { false } }
        try await broker.stop()
        try await events.waitFor("failed retries") { if case .reconnecting(attempt: 3, _) = $0 { true } else { false } }

        await #expect(throws: MQTTClientError.notConnected) { try await client.publish(topic: "t", payload: "qos 0") }
        await client.disconnect()
        await #expect(throws: MQTTClientError.disconnected) { try await finished(waiting, "the waiting publish") }
        #expect(events.events.last == .disconnected(nil))
    }

    @Test func brokerThatBreaksTheProtocolIsLeft() async throws {
        let broker = try await ScriptedBroker()
        let client = try MQTTClient(configuration: .local(port: broker.port))
        let events = EventRecorder(client)
        try await client.connect()
        try await broker.send(.pingreq)
        let event = try await events.waitFor("disconnected") {
            if case .disconnected(.some) = $0 { true } else { false }
        }
        #expect(event == .disconnected(.protocolViolation("a broker must not send PINGREQ")))
        try await broker.stop()
    }
}
