import EventLog
import Foundation
@_spi(Testing) import HomeRules
import Logging
import MQTT
import MQTTBroker
import MQTTClient
import Rules
import ServiceLifecycle
import Synchronization
import TestSupport

/// A daemon in this process over a temporary home: devices and rules written
/// by the test, a SQLite file of its own, and an embedded broker on a free
/// port (or an external broker).
final class DaemonHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let daemon: Daemon
    private let group: ServiceGroup
    private let task: Task<Void, Error>
    /// The embedded broker's port, or the external broker's.
    let port: Int
    private let loader: HeldLoader?

    var databasePath: String { directory.file("homerules.sqlite").path }

    /// Writes `devices` and `rules` (file name → YAML) and starts the
    /// daemon; returns once it announces itself online, or with
    /// `waitUntilServing: false` once its broker listens.
    static func start(
        devices: [String: String], rules: [String: String], in directory: TemporaryDirectory? = nil,
        externalPort: Int? = nil, loader: HeldLoader? = nil, waitUntilServing: Bool = true, policy: RestartPolicy = RestartPolicy(),
        secrets: Secrets = Secrets(), logger: Logger = quietLogger,
        configureClient: (inout MQTTClientConfiguration) -> Void = { _ in }
    ) async throws -> DaemonHarness {
        let directory = try directory ?? TemporaryDirectory()
        try write(devices, into: directory.file("devices"))
        try write(rules, into: directory.file("rules"))
        var configuration = DaemonConfiguration(
            devicesDirectory: directory.file("devices"), rulesDirectory: directory.file("rules"),
            databasePath: directory.file("homerules.sqlite").path,
            reloadCheckInterval: .milliseconds(200), snapshotInterval: .milliseconds(200))
        configuration.restartPolicy = policy
        configuration.secrets = secrets
        if let loader { configuration.loadHome = loader.load }
        if let externalPort {
            var client = MQTTClientConfiguration(host: "127.0.0.1", port: externalPort)
            client.clientID = "homerules-test-daemon"
            client.reconnect = .exponentialBackoff(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(500))
            configureClient(&client)
            configuration.broker = .external(client)
        } else {
            configuration.broker = .embedded(BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil))
        }
        let daemon = try Daemon(configuration: configuration, logger: logger)
        let group = ServiceGroup(services: [daemon], gracefulShutdownSignals: [], logger: quietLogger)
        let task = Task { try await group.run() }
        var port = externalPort
        // Generous: a cold, loaded machine takes seconds to open SQLite and bind.
        let deadline = ContinuousClock.now + .seconds(60)
        while port == nil, ContinuousClock.now < deadline {
            port = daemon.embeddedBroker?.boundAddresses.first?.port
            if port == nil { try? await Task.sleep(for: .milliseconds(10)) }
        }
        let harness = DaemonHarness(directory: directory, daemon: daemon, group: group, task: task, port: port ?? 0, loader: loader)
        do {
            guard port != nil else { throw HarnessError.didNotStart }
            if waitUntilServing { try await harness.waitUntilServing() }
            return harness
        } catch {
            // Never leave a daemon running behind a failed test; its own error says more.
            do { try await harness.stop() } catch let stopError { throw stopError }
            throw error
        }
    }

    /// Waits for the daemon to announce itself, once it is subscribed and serving.
    func waitUntilServing() async throws {
        let watcher = try await TestDevice.connect(id: "harness-watch", port: port)
        _ = try await watcher.waitForMessage(on: DaemonConfiguration.statusTopic) { $0 == "online" }
        await watcher.disconnect()
    }

    private init(
        directory: TemporaryDirectory, daemon: Daemon, group: ServiceGroup, task: Task<Void, Error>, port: Int, loader: HeldLoader?
    ) {
        self.loader = loader
        self.directory = directory
        self.daemon = daemon
        self.group = group
        self.task = task
        self.port = port
    }

    /// Starts a daemon, runs `body` with it, and stops it gracefully
    /// whether `body` returns or throws.
    static func with<Result>(
        devices: [String: String], rules: [String: String], in directory: TemporaryDirectory? = nil,
        externalPort: Int? = nil, loader: HeldLoader? = nil, waitUntilServing: Bool = true, policy: RestartPolicy = RestartPolicy(),
        secrets: Secrets = Secrets(), configureClient: (inout MQTTClientConfiguration) -> Void = { _ in },
        _ body: (DaemonHarness) async throws -> Result
    ) async throws -> Result {
        let harness = try await start(
            devices: devices, rules: rules, in: directory, externalPort: externalPort, loader: loader,
            waitUntilServing: waitUntilServing, policy: policy, secrets: secrets, configureClient: configureClient)
        let result: Result
        do {
            result = try await body(harness)
        } catch {
            try? await harness.stop()
            throw error
        }
        try await harness.stop()
        return result
    }

    /// Graceful shutdown, as on SIGTERM; a held load is let go after.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        defer { loader?.releaseAll() }
        try await task.value
    }

    func writeRule(_ name: String, _ yaml: String) throws {
        try yaml.write(to: directory.file("rules/\(name)"), atomically: true, encoding: .utf8)
    }

    /// A read-only view of the log, as the CLI opens it.
    func database() throws -> EventDatabase {
        try EventDatabase.openReadOnly(path: databasePath)
    }

    /// Polls the log until `condition` holds on its events.
    func waitForEvents(timeout: Duration = .seconds(30), _ condition: ([Event]) -> Bool) async throws -> [Event] {
        let database = try database()
        let deadline = ContinuousClock.now + timeout
        var events: [Event] = []
        while ContinuousClock.now < deadline {
            events = try database.events(EventFilter(limit: 10_000))
            if condition(events) { return events }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError.timedOut(events.map { "\($0.id) \($0.kind.rawValue) \($0.device ?? "") \($0.rule ?? "") \($0.detail ?? "")" })
    }

    /// Polls the log's device tables until `condition` holds on them: they
    /// are written in the batch after the event that caused them, maybe later.
    func waitForDevices(timeout: Duration = .seconds(30), _ condition: ([DeviceSnapshot]) -> Bool) async throws -> [DeviceSnapshot] {
        let database = try database()
        let deadline = ContinuousClock.now + timeout
        var devices: [DeviceSnapshot] = []
        while ContinuousClock.now < deadline {
            devices = try database.devices()
            if condition(devices) { return devices }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError.timedOut(devices.map { "\($0.state.device) \($0.state.presence ?? "-")" })
    }

    private static func write(_ files: [String: String], into folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }
}

/// Reads the home as the daemon does, except that loads after the first
/// `passing` wait until the test releases them: a load as slow as the test
/// wants, with no file that is slow to read.
final class HeldLoader: Sendable {
    private let passing: Int
    private let started = Mutex(0)
    private let passingAll = Mutex(false)
    private let gate = DispatchSemaphore(value: 0)

    init(passing: Int = 0) {
        self.passing = passing
    }

    var load: @Sendable (URL, URL) -> Result<Home, DiagnosticList> {
        { [self] devices, rules in
            let number = started.withLock { count in
                count += 1
                return count
            }
            if number > passing, !passingAll.withLock({ $0 }) { gate.wait() }
            return HomeLoader.load(devicesDirectory: devices, rulesDirectory: rules)
        }
    }

    /// Waits until `count` loads have started, up to `timeout`.
    func waitForLoads(_ count: Int, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if started.withLock({ $0 }) >= count { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Lets one held load go on.
    func release() {
        gate.signal()
    }

    /// Lets every load go on, now and later, so that no thread is left waiting.
    func releaseAll() {
        passingAll.withLock { $0 = true }
        for _ in 0..<100 { gate.signal() }
    }
}

enum HarnessError: Error {
    case didNotStart
    case timedOut([String])
}

/// A device in a test: an MQTT client that records what it receives.
final class TestDevice: @unchecked Sendable {
    let client: MQTTClient
    private let received = ReceivedMessages()

    /// Connects; with `within`, tries again until a broker starting up listens.
    static func connect(
        id: String, port: Int, will: Will? = nil, keepAlive: Duration = .seconds(60), within: Duration? = nil
    ) async throws -> TestDevice {
        let deadline = ContinuousClock.now + (within ?? .zero)
        while true {
            do {
                return try await connectOnce(id: id, port: port, will: will, keepAlive: keepAlive)
            } catch where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    private static func connectOnce(id: String, port: Int, will: Will?, keepAlive: Duration) async throws -> TestDevice {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port)
        configuration.clientID = id
        configuration.will = will
        configuration.keepAlive = keepAlive
        configuration.reconnect = .disabled
        // Generous: a loaded machine answers CONNECT late, not never.
        configuration.connectTimeout = .seconds(30)
        let device = TestDevice(client: try MQTTClient(configuration: configuration, logger: quietLogger))
        _ = try await device.client.connect()
        _ = try await device.client.subscribe("#", qos: .atLeastOnce) { [received = device.received] message in
            received.append(message)
        }
        return device
    }

    private init(client: MQTTClient) {
        self.client = client
    }

    func publish(_ topic: String, _ payload: String, retain: Bool = false) async throws {
        try await client.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: retain)
    }

    /// Waits for a message on `topic` whose payload satisfies `condition`.
    func waitForMessage(on topic: String, timeout: Duration = .seconds(30), _ condition: (String) -> Bool = { _ in true }) async throws -> MQTTMessage {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let message = received.all.first(where: { $0.topic == topic && condition($0.payloadString) }) { return message }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw HarnessError.timedOut(received.all.map { "\($0.topic) \($0.payloadString)" })
    }

    /// Every payload received, on any topic.
    func allPayloads() -> [String] { received.all.map(\.payloadString) }

    func messages(on topic: String) -> [String] {
        received.all.filter { $0.topic == topic }.map(\.payloadString)
    }

    func disconnect() async { await client.disconnect() }
}

private final class ReceivedMessages: Sendable {
    private let storage = Mutex<[MQTTMessage]>([])
    func append(_ message: MQTTMessage) { storage.withLock { $0.append(message) } }
    var all: [MQTTMessage] { storage.withLock { $0 } }
}

let quietLogger: Logger = {
    var logger = Logger(label: "test.daemon")
    logger.logLevel = .critical
    return logger
}()
