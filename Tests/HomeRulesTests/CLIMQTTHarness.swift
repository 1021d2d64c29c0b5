import Foundation
import Logging
import MQTT
import MQTTBroker
import MQTTClient
import Synchronization
import TestSupport
import Testing

/// What the tests of `set`, `toggle`, `watch` and `simulate` share: an
/// in-process broker on a port of its choosing, device files in a temporary
/// directory, and ways to run the binary and wait without blocking the
/// threads that async code needs.
final class CLIMQTTHarness: Sendable {
    let broker: MQTTBroker?
    let port: Int
    let directory: TemporaryDirectory

    var url: String { "mqtt://127.0.0.1:\(port)" }

    static let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Starts an in-process broker, or uses `port` of a broker the test runs
    /// itself (mosquitto); writes `devices` to devices/home.yaml.
    init(devices: String, port: Int? = nil) async throws {
        directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("devices"), withIntermediateDirectories: true)
        try devices.write(to: directory.file("devices/home.yaml"), atomically: true, encoding: .utf8)
        if let port {
            self.broker = nil
            self.port = port
        } else {
            let broker = MQTTBroker(
                configuration: BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil),
                logger: Self.quietLogger)
            try await broker.start()
            self.broker = broker
            self.port = try #require(broker.boundAddresses.first?.port)
        }
    }

    func stop() async {
        await broker?.shutdown()
    }

    /// What a finished `homerules` printed, and its exit status.
    typealias Result = ProcessResult

    /// Runs `homerules` in the directory to completion, killing it after `timeout`.
    func run(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> Result {
        let seconds = TimeInterval(timeout.components.seconds)
        return try await HomeRulesBinary.run(arguments, in: directory.path, timeout: seconds)
    }

    /// Starts a long-running `homerules` command in the directory.
    func start(_ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", directory.path, HomeRulesBinary.path] + arguments)
    }

    /// Starts a long-running command whose standard error goes to its own
    /// file, so that its output holds standard output alone.
    func startSeparatingStandardError(_ arguments: [String]) throws -> (process: BackgroundProcess, standardError: URL) {
        let standardError = directory.file("stderr-\(UUID().uuidString.prefix(8)).txt")
        let process = try BackgroundProcess(
            "/bin/sh", ["-c", "cd \"$0\" && exec \"$@\" 2>\"\(standardError.path)\"", directory.path, HomeRulesBinary.path] + arguments)
        return (process, standardError)
    }

    /// A connected client of the broker.
    func client(_ id: String, will: Will? = nil) async throws -> MQTTClient {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port, clientID: id, will: will, reconnect: .disabled)
        configuration.connectTimeout = .seconds(30)
        let client = try MQTTClient(configuration: configuration, logger: Self.quietLogger)
        try await client.connect()
        return client
    }

    /// A client that records every message matching `filter`.
    func recorder(_ filter: String = "#") async throws -> CLIMQTTRecorder {
        let client = try await client("recorder-\(UUID().uuidString.prefix(8))")
        let recorder = CLIMQTTRecorder(client: client)
        _ = try await client.subscribe(filter, qos: .atLeastOnce) { recorder.append($0) }
        return recorder
    }
}

/// The messages a subscription received, for assertions.
final class CLIMQTTRecorder: Sendable {
    let client: MQTTClient
    private let storage = Mutex<[MQTTMessage]>([])

    init(client: MQTTClient) {
        self.client = client
    }

    func append(_ message: MQTTMessage) { storage.withLock { $0.append(message) } }

    var messages: [MQTTMessage] { storage.withLock { $0 } }

    /// The payloads received on `topic`, oldest first.
    func payloads(on topic: String) -> [String] {
        messages.filter { $0.topic == topic }.map(\.payloadString)
    }

    /// Waits until a message on `topic` satisfies `condition`, and returns it.
    func waitFor(
        _ topic: String, timeout: Duration = .seconds(30), where condition: @Sendable (MQTTMessage) -> Bool = { _ in true }
    ) async -> MQTTMessage? {
        var found: MQTTMessage?
        _ = await CLIMQTTHarness.eventually(timeout: timeout) {
            found = self.messages.last { $0.topic == topic && condition($0) }
            return found != nil
        }
        return found
    }

    /// Waits until `topic` has received `payload`.
    func waitFor(_ topic: String, payload: String, timeout: Duration = .seconds(30)) async -> Bool {
        await waitFor(topic, timeout: timeout) { $0.payloadString == payload } != nil
    }

    func stop() async { await client.disconnect() }
}

extension CLIMQTTHarness {
    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// Waits for a process's output to contain `text`, without blocking a thread.
    static func wait(for process: BackgroundProcess, toPrint text: String, timeout: Duration = .seconds(30)) async -> Bool {
        await eventually(timeout: timeout) { process.output.contains(text) }
    }

    /// Sends `signal` to a process and waits for its exit status. Sent only
    /// while the child is not yet reaped: a reaped child's pid may already
    /// belong to another test's peer.
    static func send(_ signal: Int32, to process: BackgroundProcess, timeout: Duration = .seconds(30)) async -> Int32? {
        process.process.send(signal)
        guard await eventually(timeout: timeout, { !process.process.isRunning }) else { return nil }
        return process.process.terminationStatus
    }
}
