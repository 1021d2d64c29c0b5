import Foundation

/// A long-running peer (a `mosquitto` broker, a `mosquitto_sub`, `homerules
/// serve`) that a test starts and must stop; its output goes to a file so
/// that it never blocks.
public final class BackgroundProcess: Sendable {
    public let process: Subprocess
    public let outputURL: URL
    private let directory: TemporaryDirectory

    public init(_ executable: String, _ arguments: [String]) throws {
        directory = try TemporaryDirectory()
        outputURL = directory.url.appendingPathComponent("output.txt")
        let output = open(outputURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let input = open("/dev/null", O_RDONLY)
        guard output >= 0, input >= 0 else { throw POSIXError(.EMFILE) }
        defer {
            close(output)
            close(input)
        }
        process = try Subprocess(executable, arguments, stdin: input, stdout: output, stderr: output)
    }

    /// The process id, for signals.
    public var pid: pid_t { process.pid }

    /// Everything the process printed so far, stdout and stderr interleaved.
    public var output: String {
        (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
    }

    /// Waits until `condition` holds on the output, up to `timeout` seconds.
    public func waitForOutput(timeout: TimeInterval = 30, _ condition: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(output) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(output)
    }

    /// Waits for the process to exit by itself, up to `timeout` seconds.
    public func waitForExit(timeout: TimeInterval = 30) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGTERM, then SIGKILL if it lingers. Blocks (2 s at most) so that it
    /// can run in `defer` and `deinit`.
    public func stop() {
        guard process.isRunning else { return }
        process.send(SIGTERM)
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.send(SIGKILL)
            process.waitUntilExit()
        }
    }

    /// SIGKILL at once: the peer vanishes without a word, as a crashed device does.
    public func kill9() {
        guard process.isRunning else { return }
        process.send(SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A temporary folder, removed when released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("homerules-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var path: String { url.path }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A real Mosquitto broker on a free loopback port, for the tests that prove
/// our client and the daemon against an independent broker.
public final class MosquittoBroker: @unchecked Sendable {
    public let port: Int
    public let process: BackgroundProcess
    private let directory: TemporaryDirectory

    /// Starts mosquitto and waits, without blocking a task thread, until it
    /// says it runs (all its listeners bound) and accepts connections.
    ///
    /// A listening port alone proves nothing: if something else holds the
    /// port, mosquitto exits with "Address already in use" while a client
    /// connects to that other listener.
    /// - Parameters:
    ///   - extraConfig: more mosquitto.conf lines.
    ///   - port: the port to listen on, such as that of a broker the test
    ///     stopped and now restarts; a free one when nil.
    public static func start(extraConfig: String = "", port: Int? = nil) async throws -> MosquittoBroker {
        let broker = try MosquittoBroker(extraConfig: extraConfig, port: port)
        let deadline = Date().addingTimeInterval(10)
        while !(broker.process.output.contains(" running") && isListening(port: broker.port)) {
            guard Date() < deadline, broker.process.process.isRunning else {
                throw PeerMissing(name: "mosquitto (did not start: \(broker.process.output))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return broker
    }

    private init(extraConfig: String, port: Int?) throws {
        let executable = try Peers.require("mosquitto")
        directory = try TemporaryDirectory()
        self.port = try port ?? freeLoopbackPort()
        let config = directory.file("mosquitto.conf")
        try """
        listener \(self.port) 127.0.0.1
        allow_anonymous true
        persistence false
        \(extraConfig)
        """.write(to: config, atomically: true, encoding: .utf8)
        process = try BackgroundProcess(executable, ["-c", config.path, "-v"])
    }

    public var url: String { "mqtt://127.0.0.1:\(port)" }

    public func stop() { process.stop() }

    deinit { process.stop() }
}

extension MosquittoBroker {
    /// Waits until the broker's verbose log shows `text` more than `count - 1` times.
    public func waitForLog(count: Int = 1, _ text: String, timeout: TimeInterval = 30) async throws {
        guard await process.waitForOutput(timeout: timeout, { $0.components(separatedBy: text).count > count }) else {
            throw MosquittoLogTimeout(text: text, count: count)
        }
    }
}

/// Mosquitto's log did not show what a test waited for.
public struct MosquittoLogTimeout: Error, CustomStringConvertible {
    public let text: String
    public let count: Int
    public var description: String { "mosquitto did not log \"\(text)\" \(count) time(s) in time" }
}
