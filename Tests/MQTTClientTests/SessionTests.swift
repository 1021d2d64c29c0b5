import Foundation
import MQTT
@_spi(Testing) import MQTTClient
import NIOCore
import TestSupport
import Testing

/// Wills, persistent sessions, reconnecting and keepalive against a real
/// Mosquitto broker.
@Suite(.timeLimit(.minutes(5))) struct SessionTests {
    private static let will = Will(
        topic: "home/node/status", payload: ByteBuffer(string: "offline"), qos: .atLeastOnce, retain: false)

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func willIsPublishedWhenTheConnectionDropsAbruptly() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let watcher = try await broker.connectedClient()
        let wills = MessageCollector()
        _ = try await watcher.subscribe("home/+/status", qos: .atLeastOnce, handler: wills.handler)

        let node = try await broker.connectedClient(clientID: "node") { $0.will = Self.will }
        let events = EventRecorder(node)
        node.dropConnection()
        let message = try await wills.waitFor(count: 1)[0]
        #expect(message.topic == "home/node/status" && message.payloadString == "offline")
        try await events.waitFor("the loss") {
            $0 == .disconnected(.connectionLost(reason: "dropped on request"))
        }
        await watcher.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func willIsNotPublishedAfterDisconnect() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let watcher = try await broker.connectedClient()
        let wills = MessageCollector()
        _ = try await watcher.subscribe("home/+/status", qos: .atLeastOnce, handler: wills.handler)

        let node = try await broker.connectedClient(clientID: "polite-node") { $0.will = Self.will }
        await node.disconnect()
        try await broker.waitForLog("Client polite-node disconnected.")
        let beforeMarker = try await wills.messages(beforeMarker: "marker") {
            try await watcher.publish(topic: "home/marker/status", payload: "marker", qos: .atLeastOnce)
        }
        #expect(beforeMarker.isEmpty)
        await watcher.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func persistentSessionReceivesWhatWasQueuedWhileAway() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let sleeper = try await broker.connectedClient(clientID: "sleeper") { $0.cleanSession = false }
        let subscription = try await sleeper.subscribe("mail/#", qos: .atLeastOnce)
        let inbox = MessageCollector()
        let draining = inbox.drain(subscription)
        defer { draining.cancel() }
        await sleeper.disconnect()

        let sender = try await broker.connectedClient()
        for index in 1...5 {
            try await sender.publish(topic: "mail/\(index)", payload: "letter \(index)", qos: .atLeastOnce)
        }
        await sender.disconnect()

        #expect(try await sleeper.connect().sessionPresent)
        let letters = try await inbox.waitFor(count: 5)
        #expect(letters.map(\.payloadString) == (1...5).map { "letter \($0)" })
        let beforeMarker = try await inbox.messages(beforeMarker: "marker") {
            try await sleeper.publish(topic: "mail/marker", payload: "marker", qos: .atLeastOnce)
        }
        #expect(beforeMarker.count == 5)
        await sleeper.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func reconnectsAndResubscribesWhenTheBrokerRestarts() async throws {
        _ = try Peers.require("mosquitto")
        var broker = try await MosquittoBroker.start()
        let port = broker.port
        let client = try await broker.connectedClient(clientID: "survivor") {
            $0.reconnect = .exponentialBackoff(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(400))
        }
        let events = EventRecorder(client)
        let collector = MessageCollector()
        _ = try await client.subscribe("restart/#", qos: .atLeastOnce, handler: collector.handler)
        try await client.publish(topic: "restart/before", payload: "before", qos: .atLeastOnce)
        try await collector.waitFor(count: 1)

        broker.stop()
        try await events.waitFor("the loss") { if case .disconnected(.some) = $0 { true } else { false } }
        try await events.waitFor("a retry") { if case .reconnecting(attempt: 2, _) = $0 { true } else { false } }

        // Published while the broker is down: waits, then goes first thing.
        let queued = Task { try await client.publish(topic: "restart/during", payload: "during", qos: .atLeastOnce) }
        broker = try await MosquittoBroker.start(port: port)
        try await events.waitFor("the reconnect") { $0 == .connected(sessionPresent: false) }
        try await finished(queued, "the publish made during the outage")
        // The resubscription went before the queued publish, so it came back to us.
        try await collector.waitFor(count: 2)

        let other = try await broker.connectedClient()
        try await other.publish(topic: "restart/after", payload: "after", qos: .atLeastOnce)
        #expect(try await collector.waitFor(count: 3).map(\.payloadString) == ["before", "during", "after"])
        await other.disconnect()
        await client.disconnect()
        #expect(events.events.last == .disconnected(nil))
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func lossWithoutReconnectEndsACleanSessionsSubscriptions() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient()
        let subscription = try await client.subscribe("x/#")
        broker.stop()
        // A clean session's subscriptions end with the connection.
        let ending = Task {
            for await _ in subscription {}
            try Task.checkCancellation()
        }
        try await finished(ending, "the subscription to end")
        await #expect(throws: MQTTClientError.notConnected) {
            try await client.publish(topic: "x/y", payload: "z", qos: .atLeastOnce)
        }
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func keepalivePingsHoldAnIdleConnection() async throws {
        _ = try Peers.require("mosquitto")
        let broker = try await MosquittoBroker.start()
        // A late PINGRESP on a loaded machine is not what this test is about: the client waits up to 10 s for it.
        let client = try await broker.connectedClient(clientID: "idler") {
            $0.keepAlive = .seconds(1)
            $0.pingTimeout = .seconds(10)
        }
        let events = EventRecorder(client)
        // Mosquitto drops a client silent for 1.5 keepalive intervals: three pings span 3 of them.
        for count in 1...3 {
            try await broker.waitForLog(count: count, "Received PINGREQ from idler")
        }
        #expect(events.events.isEmpty)

        let collector = MessageCollector()
        _ = try await client.subscribe("still/here", qos: .atLeastOnce, handler: collector.handler)
        try await client.publish(topic: "still/here", payload: "yes", qos: .atLeastOnce)
        try await collector.waitFor(count: 1)
        await client.disconnect()
    }
}
