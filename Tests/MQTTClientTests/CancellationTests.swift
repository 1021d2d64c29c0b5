import MQTT
import MQTTClient
import Testing

/// Cancelling the task that waits for an operation, against a scripted
/// server that never answers it.
@Suite(.timeLimit(.minutes(5))) struct CancellationTests {
    @Test func cancelledPublishStopsWaitingButStaysInFlight() async throws {
        let broker = try await ScriptedBroker()
        let client = try MQTTClient(configuration: .local(port: broker.port))
        try await client.connect()
        let waiting = Task { try await client.publish(topic: "t", payload: "slow", qos: .atLeastOnce) }
        let sent = try await broker.waitForPacket("PUBLISH") { if case .publish = $0 { true } else { false } }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await finished(waiting, "the cancelled publish") }
        // The broker may still acknowledge it; nothing breaks.
        guard case .publish(let publish) = sent else { return }
        try await broker.send(.puback(AckPacket(packetID: publish.packetID)))
        try await client.publish(topic: "t", payload: "next", qos: .atMostOnce)
        await client.disconnect()
        try await broker.stop()
    }

    @Test func cancelledConnectGivesTheAttemptUp() async throws {
        let broker = try await ScriptedBroker(.init(connack: { _ in nil }))
        var configuration = MQTTClientConfiguration.local(port: broker.port)
        // Only the cancellation may end the attempt, however slow the machine.
        configuration.connectTimeout = .seconds(120)
        let client = try MQTTClient(configuration: configuration)
        let events = EventRecorder(client)
        let connecting = Task { try await client.connect() }
        try await broker.waitForPacket("CONNECT") { if case .connect = $0 { true } else { false } }
        connecting.cancel()
        await #expect(throws: CancellationError.self) { try await finished(connecting, "the cancelled connect") }
        try await events.waitFor("the end of the attempt") { $0 == .disconnected(nil) }
        await #expect(throws: MQTTClientError.notConnected) {
            try await client.publish(topic: "t", payload: "x", qos: .atLeastOnce)
        }
        try await broker.stop()
    }

    @Test func cancelledSubscribeIsUndone() async throws {
        let broker = try await ScriptedBroker(.init(suback: { _ in nil }))
        let client = try MQTTClient(configuration: .local(port: broker.port))
        try await client.connect()
        let subscribing = Task { try await client.subscribe("slow/#", handler: { _ in }) }
        try await broker.waitForPacket("SUBSCRIBE") { if case .subscribe = $0 { true } else { false } }
        subscribing.cancel()
        await #expect(throws: CancellationError.self) { try await finished(subscribing, "the cancelled subscribe") }
        try await broker.waitForPacket("UNSUBSCRIBE") { $0 == .unsubscribe(UnsubscribePacket(packetID: 2, filters: ["slow/#"])) }
        await client.disconnect()
        try await broker.stop()
    }
}
