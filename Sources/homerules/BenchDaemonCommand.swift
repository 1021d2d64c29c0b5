import ArgumentParser
import EventLog
import Foundation
import HomeRules
import Logging
import MQTT
import MQTTBroker
import MQTTClient
import ServiceLifecycle
import Synchronization

/// `homerules bench daemon`: the whole path, from a sensor's publish through
/// the embedded broker, the rules engine and the event log to the command
/// arriving at the actuator.
struct BenchDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Measure sensor-to-actuator latency and the sustained event rate of `serve`.",
        discussion: """
            Runs a daemon in this process on a temporary home (one device with a temperature sensor and an LED, \
            one threshold rule with `otherwise`) and an SQLite log, and a device that alternates readings above \
            and below the threshold, so that every reading makes the rule switch the LED. Latency: readings at a \
            fixed rate, measured from the publish to the LED command's arrival. Throughput: readings as fast as \
            the device can send, until every one is in the log and every command has arrived.
            """
    )

    @Option(help: "Readings per second in the latency run.")
    var rate = 1000

    @Option(help: "Seconds of the latency run.")
    var seconds = 10

    @Option(help: "Readings in the throughput run.")
    var events = 100_000

    func run() async throws {
        let home = try BenchHome()
        defer { home.remove() }
        var configuration = DaemonConfiguration(
            broker: .embedded(BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil)),
            devicesDirectory: home.url.appendingPathComponent("devices"),
            rulesDirectory: home.url.appendingPathComponent("rules"),
            databasePath: home.url.appendingPathComponent("bench.sqlite").path)
        configuration.reloadCheckInterval = nil
        var quiet = Logger(label: "bench")
        quiet.logLevel = .error
        let daemon = try Daemon(configuration: configuration, logger: quiet)
        let group = ServiceGroup(services: [daemon], gracefulShutdownSignals: [], logger: quiet)
        let running = Task { try await group.run() }
        defer { running.cancel() }

        var port: Int?
        for _ in 0..<500 where port == nil {
            port = daemon.embeddedBroker?.boundAddresses.first?.port
            if port == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        guard let port else { throw ValidationError("the daemon did not start") }
        let device = try await BenchDevice(port: port)
        try await Task.sleep(for: .milliseconds(300))

        let latencies = try await device.latencyRun(rate: rate, seconds: seconds)
        print(String(format: "sensor -> actuator at %d events/s, logging on: p50 %.0f µs, p99 %.0f µs, max %.0f µs (%d events)",
                     rate, latencies.percentile(0.50), latencies.percentile(0.99), latencies.max() ?? 0, latencies.count))

        let database = try EventDatabase.openReadOnly(path: configuration.databasePath)
        let before = try database.events(EventFilter(kinds: [.message], limit: 1)).last?.id ?? 0
        let (elapsed, commands) = try await device.throughputRun(events: events)
        let logged = try await Self.waitForLoggedMessages(database, after: before, expected: events)
        let loggedElapsed = logged.seconds
        print(String(format: "sustained: %d readings in %.2f s through the broker and rules (%.0f events/s), %d commands back; all %d in the log after %.2f s (%.0f events/s logged, none lost)",
                     events, elapsed, Double(events) / elapsed, commands, logged.count, loggedElapsed, Double(logged.count) / loggedElapsed))

        await device.disconnect()
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    /// Waits until `expected` message events after `id` are in the log.
    private static func waitForLoggedMessages(_ database: EventDatabase, after id: Int64, expected: Int) async throws -> (count: Int, seconds: Double) {
        let start = ContinuousClock.now
        var count = 0
        while ContinuousClock.now - start < .seconds(300) {
            count = try database.countEvents(kind: .message, after: id)
            if count >= expected { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - start
        return (count, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// A temporary home with one sensor, one LED and one rule.
private struct BenchHome {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("homerules-bench-\(UUID().uuidString)")
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: url.appendingPathComponent("devices"), withIntermediateDirectories: true)
        try fileManager.createDirectory(at: url.appendingPathComponent("rules"), withIntermediateDirectories: true)
        try """
            id: bench
            name: Bench node
            presence: { topic: bench/status, online: online, offline: offline }
            sensors:
              temperature: { topic: bench/temperature, type: number }
            actuators:
              led: { command_topic: bench/led/set, payloads: { on: "on", off: "off" } }
            """.write(to: url.appendingPathComponent("devices/bench.yaml"), atomically: true, encoding: .utf8)
        try """
            - id: bench-led
              when: { sensor: bench.temperature, above: 50 }
              then: [ { set: bench.led, to: on } ]
              otherwise: [ { set: bench.led, to: off } ]
              # Every reading switches the LED on purpose: not a loop.
              loop_guard: { max_runs: 100000, within: 1s }
            """.write(to: url.appendingPathComponent("rules/bench.yaml"), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The benchmark's device: publishes readings, times the commands.
private final class BenchDevice: Sendable {
    let client: MQTTClient
    private let arrivals = Mutex<[ContinuousClock.Instant]>([])

    init(port: Int) async throws {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port)
        configuration.clientID = "bench-device"
        configuration.reconnect = .disabled
        client = try MQTTClient(configuration: configuration)
        _ = try await client.connect()
        _ = try await client.subscribe("bench/led/set", qos: .atMostOnce) { [self] _ in
            let now = ContinuousClock.now
            self.arrivals.withLock { $0.append(now) }
        }
        // A first reading that is not a crossing, so that every later one is.
        try await client.publish(topic: "bench/temperature", payload: "0")
    }

    /// Readings at `rate` per second; the latency of each command in µs.
    func latencyRun(rate: Int, seconds: Int) async throws -> [Double] {
        arrivals.withLock { $0.removeAll() }
        let count = rate * seconds
        let interval = Duration.nanoseconds(1_000_000_000 / Int64(rate))
        var sent: [ContinuousClock.Instant] = []
        sent.reserveCapacity(count)
        let clock = ContinuousClock()
        var next = clock.now
        for index in 0..<count {
            try await clock.sleep(until: next)
            sent.append(clock.now)
            try await client.publish(topic: "bench/temperature", payload: index % 2 == 0 ? "99" : "1")
            next += interval
        }
        try await waitForArrivals(count)
        let received = arrivals.withLock { $0 }
        return zip(sent, received).map { pair in
            let elapsed = pair.1 - pair.0
            return Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        }
    }

    /// Readings as fast as possible; the seconds until the last command came back.
    func throughputRun(events: Int) async throws -> (Double, Int) {
        arrivals.withLock { $0.removeAll() }
        let start = ContinuousClock.now
        for index in 0..<events {
            try await client.publish(topic: "bench/temperature", payload: index % 2 == 0 ? "99" : "1")
        }
        try await waitForArrivals(events)
        let elapsed = ContinuousClock.now - start
        let count = arrivals.withLock { $0.count }
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, count)
    }

    private func waitForArrivals(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while arrivals.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func disconnect() async { await client.disconnect() }
}

extension Array where Element == Double {
    /// The value below which `fraction` of the samples fall.
    func percentile(_ fraction: Double) -> Double {
        guard !isEmpty else { return 0 }
        let sorted = self.sorted()
        return sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}
