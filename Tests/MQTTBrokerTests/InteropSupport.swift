import Foundation
import MQTT
import MQTTBroker
import Synchronization
import TestSupport
import Testing

// Helpers shared by the Interop*Tests: a broker per test, bounded waits that
// never block the cooperative thread pool, and mosquitto_pub / mosquitto_sub
// pointed at the test's broker.

/// A broker of one test's own, on a port picked by the system.
struct InteropBroker {
    let broker: MQTTBroker
    let port: Int

    /// Starts a broker on 127.0.0.1, port 0. `$SYS` publishing is off unless
    /// `configure` turns it on, so that retained counts are the test's own.
    static func start(_ configure: (inout BrokerConfiguration) -> Void = { _ in }) async throws -> InteropBroker {
        var configuration = BrokerConfiguration(
            listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil)
        configure(&configuration)
        let broker = MQTTBroker(configuration: configuration, logger: quietLogger)
        try await broker.start()
        guard let port = broker.boundAddresses.first?.port else {
            await broker.shutdown()
            throw InteropFailure("the broker reports no bound address")
        }
        return InteropBroker(broker: broker, port: port)
    }

    /// Waits until the broker holds at least `count` subscriptions: a peer
    /// that subscribed is then sure to get what is published next.
    func waitForSubscriptions(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        let reached = try await interopWait(timeout) { try await broker.status().subscriptions >= count }
        try #require(reached, "the broker did not reach \(count) subscription(s)")
    }

    /// Waits until exactly `count` clients are connected.
    func waitForConnectedClients(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        let reached = try await interopWait(timeout) { try await broker.status().clientsConnected == count }
        let now = try await broker.status().clientsConnected
        try #require(reached, "expected \(count) connected client(s), the broker has \(now)")
    }

    /// Subscribes in-process and records what arrives, as `topic|qos|retain|payload`.
    func record(_ filter: String, qos: QoS = .exactlyOnce) async throws -> InteropRecorder {
        let recorder = InteropRecorder()
        _ = try await broker.subscribe([TopicSubscription(filter: filter, qos: qos)]) { message in
            recorder.append(
                "\(message.topic)|\(message.qos.rawValue)|\(message.retain ? 1 : 0)|\(message.payloadString)")
        }
        return recorder
    }
}

/// Runs `body` with a broker of its own and shuts the broker down however
/// `body` ends.
func withInteropBroker(
    _ configure: (inout BrokerConfiguration) -> Void = { _ in },
    _ body: (InteropBroker) async throws -> Void
) async throws {
    let broker = try await InteropBroker.start(configure)
    do {
        try await body(broker)
    } catch {
        await broker.broker.shutdown()
        throw error
    }
    await broker.broker.shutdown()
}

/// Messages an in-process subscriber received, in order.
final class InteropRecorder: Sendable {
    private let entries = Mutex<[String]>([])

    func append(_ entry: String) { entries.withLock { $0.append(entry) } }

    var received: [String] { entries.withLock { $0 } }
}

/// A test failure described in words.
struct InteropFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns
/// whether it held. Sleeps rather than blocks, so other tests keep running.
func interopWait(_ timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

extension BackgroundProcess {
    /// The output's non-empty lines.
    var interopLines: [String] {
        output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Waits for the process to exit by itself; nil if it is still running.
    func interopExit(within timeout: Duration = .seconds(30)) async -> Int32? {
        let exited = await interopWait(timeout) { !process.isRunning }
        guard exited else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits until the output holds `count` lines.
    func interopWaitForLines(_ count: Int, timeout: Duration = .seconds(30)) async -> Bool {
        await interopWait(timeout) { interopLines.count >= count }
    }
}

/// `mosquitto_pub` and `mosquitto_sub` (Debian's mosquitto-clients) pointed
/// at one broker.
struct InteropMosquitto {
    /// What mosquitto_sub prints per message: topic, QoS, retain flag, payload.
    static let format = "%t|%q|%r|%p"

    let publisher: String
    let subscriber: String
    let port: Int

    init(port: Int) throws {
        publisher = try Peers.require("mosquitto_pub")
        subscriber = try Peers.require("mosquitto_sub")
        self.port = port
    }

    /// Runs mosquitto_pub to completion; throws with its output if it fails.
    func publish(_ arguments: [String], stdin: String? = nil) async throws {
        let result = try await runPublisher(arguments, stdin: stdin)
        guard result.status == 0 else {
            throw InteropFailure("mosquitto_pub \(arguments) exited \(result.status): \(result.stdout)\(result.stderr)")
        }
    }

    /// Publishes one message per element of `payloads`, in order, on one connection.
    func publish(topic: String, payloads: [String], qos: Int, extra: [String] = []) async throws {
        try await publish(
            ["-t", topic, "-q", "\(qos)", "-l"] + extra, stdin: payloads.joined(separator: "\n") + "\n")
    }

    /// Runs mosquitto_pub to completion, whatever its exit status.
    func runPublisher(_ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
        let executable = publisher
        let full = ["-h", "127.0.0.1", "-p", "\(port)"] + arguments
        return try await run(executable, full, timeout: 30, stdin: stdin)
    }

    /// Starts mosquitto_sub printing each message in `format`; `-W` bounds
    /// its life should the test fail to stop it.
    func subscribe(_ arguments: [String], format: String = Self.format) throws -> BackgroundProcess {
        try BackgroundProcess(
            subscriber, ["-h", "127.0.0.1", "-p", "\(port)", "-F", format, "-W", "40"] + arguments)
    }

    /// Subscribes with mosquitto_sub, waits for `count` messages or its
    /// exit, and returns what it printed.
    func receive(_ arguments: [String], count: Int) async throws -> [String] {
        let process = try subscribe(arguments + ["-C", "\(count)"])
        defer { process.stop() }
        let status = await process.interopExit(within: .seconds(30))
        try #require(status == 0, "mosquitto_sub \(arguments) ended with \(String(describing: status)): \(process.output)")
        return process.interopLines
    }
}

#if os(Linux)
/// The peers must stop when asked, or every test that stops one waits out
/// the grace period and a hung peer outlives its timeout.
@Suite("Interop: peer processes", .timeLimit(.minutes(5)))
struct InteropPeerProcessTests {
    @Test("a peer started from a test's thread does not block SIGTERM")
    func peersAcceptSIGTERM() async throws {
        let sleeper = try BackgroundProcess("/bin/sleep", ["30"])
        defer { sleeper.kill9() }
        let status = try String(contentsOfFile: "/proc/\(sleeper.pid)/status", encoding: .utf8)
        let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
        #expect(blocked == "SigBlk:\t0000000000000000")
        sleeper.stop()
        #expect(!sleeper.process.isRunning)
        #expect(sleeper.process.wasKilledBySignal)
        #expect(sleeper.process.terminationStatus == SIGTERM)
    }

    @Test("a mosquitto whose port another test's broker holds is not taken for one that runs")
    func mosquittoOnATakenPortFailsToStart() async throws {
        _ = try Peers.require("mosquitto")
        try await withInteropBroker { other in
            await #expect(throws: PeerMissing.self) { _ = try await MosquittoBroker.start(port: other.port) }
        }
    }

    @Test("ports for peers come from below the ephemeral range, each once")
    func peerPortsStayOutOfTheEphemeralRange() throws {
        let range = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let ephemeralStart = try #require(range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) })
        let ports = try (0..<200).map { _ in try freeLoopbackPort() }
        #expect(Set(ports).count == ports.count)
        #expect(ports.allSatisfy { $0 >= 1024 && $0 < ephemeralStart })
    }
}
#endif
