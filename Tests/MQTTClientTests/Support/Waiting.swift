import Foundation
import MQTT
@_spi(Testing) import MQTTClient
import NIOConcurrencyHelpers
import NIOCore
import TestSupport

/// A bounded wait ran out.
struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` every 10 ms until it holds, for at most `timeout`.
func waitUntil(
    _ what: @autoclosure () -> String, timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    if try await condition() { return }
    throw TimedOut(what: what())
}

/// The value of `task`, which is cancelled if it takes longer than `timeout`.
func finished<Value: Sendable>(
    _ task: Task<Value, any Error>, _ what: String, within timeout: Duration = .seconds(30)
) async throws -> Value {
    let timedOut = NIOLockedValueBox(false)
    let timer = Task {
        try await Task.sleep(for: timeout)
        timedOut.withLockedValue { $0 = true }
        task.cancel()
    }
    defer { timer.cancel() }
    do {
        return try await task.value
    } catch is CancellationError where timedOut.withLockedValue({ $0 }) {
        throw TimedOut(what: what)
    }
}

/// Messages gathered by a handler subscription or a drained stream, safe to
/// read from the test while the client keeps adding.
final class MessageCollector: Sendable {
    private let box = NIOLockedValueBox<[MQTTMessage]>([])

    var messages: [MQTTMessage] { box.withLockedValue { $0 } }
    var payloads: [String] { messages.map(\.payloadString) }

    /// The handler to subscribe with.
    var handler: @Sendable (MQTTMessage) -> Void {
        { [box] message in box.withLockedValue { $0.append(message) } }
    }

    /// Drains a stream subscription in the background until `stop()`.
    func drain(_ subscription: MQTTSubscription) -> Task<Void, Never> {
        Task { [box] in
            for await message in subscription { box.withLockedValue { $0.append(message) } }
        }
    }

    /// Waits until at least `count` messages arrived, then returns them all.
    @discardableResult
    func waitFor(count: Int, timeout: Duration = .seconds(30)) async throws -> [MQTTMessage] {
        try await waitUntil("\(count) messages (have \(messages.count))", timeout: timeout) { self.messages.count >= count }
        return messages
    }

    /// What arrived before a marker message, to show that nothing more did:
    /// `sendMarker` publishes a message with payload `marker` on the same
    /// path (a topic the collector hears, after what is being ruled out).
    func messages(beforeMarker marker: String, _ sendMarker: () async throws -> Void) async throws -> [MQTTMessage] {
        try await sendMarker()
        try await waitUntil("the marker \(marker)") { self.messages.contains { $0.payloadString == marker } }
        return Array(messages.prefix { $0.payloadString != marker })
    }
}

/// Records a client's connection events.
final class EventRecorder: Sendable {
    private let box = NIOLockedValueBox<[MQTTClient.ConnectionEvent]>([])
    private let task: Task<Void, Never>

    init(_ client: MQTTClient) {
        let stream = client.connectionEvents()
        task = Task { [box] in
            for await event in stream { box.withLockedValue { $0.append(event) } }
        }
    }

    deinit { task.cancel() }

    var events: [MQTTClient.ConnectionEvent] { box.withLockedValue { $0 } }

    /// Waits for an event that `matches`, after `skipping` earlier events.
    @discardableResult
    func waitFor(
        _ what: String, after skipping: Int = 0, timeout: Duration = .seconds(30),
        _ matches: @escaping @Sendable (MQTTClient.ConnectionEvent) -> Bool
    ) async throws -> MQTTClient.ConnectionEvent {
        try await waitUntil("event \(what) (have \(events))", timeout: timeout) {
            self.events.dropFirst(skipping).contains(where: matches)
        }
        return events.dropFirst(skipping).first(where: matches)!
    }
}

extension MQTTClientConfiguration {
    /// A configuration for a broker on 127.0.0.1 with reconnecting off unless
    /// a test turns it on, so that a stopped broker ends a client's work.
    static func local(port: Int, clientID: String = "") -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port, clientID: clientID)
        configuration.reconnect = .disabled
        configuration.connectTimeout = .seconds(5)
        return configuration
    }
}

extension MosquittoBroker {
    /// A connected client of this broker.
    func connectedClient(
        clientID: String = "", _ configure: (inout MQTTClientConfiguration) -> Void = { _ in }
    ) async throws -> MQTTClient {
        try await MQTTClient.connected(port: port, clientID: clientID, configure)
    }
}
