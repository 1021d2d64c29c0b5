import Foundation
import Synchronization

/// Independent programs that tests use to prove interoperability:
/// `mosquitto`, `mosquitto_pub`, `mosquitto_sub`, and Python with paho-mqtt.
///
/// Outside CI a test whose peer is missing is disabled; in CI (`CI=true`) it
/// runs and fails, because `.ci/run` promises to install every peer.
public enum Peers {
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"].map { $0 == "true" || $0 == "1" } ?? false
    }

    private static let searchPath: [String] = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]
    }()

    /// The full path of an executable, or nil.
    public static func find(_ name: String) -> String? {
        for directory in searchPath {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether Python can import paho-mqtt.
    public static let hasPaho: Bool = {
        guard let python = find("python3") else { return false }
        return (try? runBlocking(python, ["-c", "import paho.mqtt.client"], timeout: 20, stdin: nil).status) == 0
    }()

    /// Whether a test needing `names` should run: the peers are there, or we
    /// are in CI where their absence must fail the test.
    public static func enabled(_ names: String...) -> Bool {
        isCI || names.allSatisfy { find($0) != nil }
    }

    /// Whether a paho-mqtt test should run.
    public static var pahoEnabled: Bool { isCI || hasPaho }

    /// The path of a peer, or an error that fails the test.
    public static func require(_ name: String) throws -> String {
        guard let path = find(name) else { throw PeerMissing(name: name) }
        return path
    }

    /// Fails the test when paho-mqtt cannot be imported.
    public static func requirePaho() throws -> String {
        let python = try require("python3")
        guard hasPaho else { throw PeerMissing(name: "paho-mqtt (pip install paho-mqtt)") }
        return python
    }
}

public struct PeerMissing: Error, CustomStringConvertible {
    public var name: String
    public var description: String { "peer \(name) is not installed; .ci/run installs it" }
}

/// The outcome of a finished process.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public struct ProcessTimedOut: Error, CustomStringConvertible {
    public var command: String
    public var description: String { "timed out: \(command)" }
}

/// Runs a program to completion, killing it after `timeout` seconds.
///
/// The wait happens on a thread of its own: the threads that run Swift
/// tasks are few (two on the CI machine), and a test blocking one for
/// seconds starves every other test's connections and timers.
@discardableResult
public func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 30, stdin: String? = nil) async throws -> ProcessResult {
    try await offloaded { try runBlocking(executable, arguments, timeout: timeout, stdin: stdin) }
}

/// Runs blocking work on a thread of its own and awaits its result.
public func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

private func runBlocking(_ executable: String, _ arguments: [String], timeout: TimeInterval, stdin: String?) throws -> ProcessResult {
    var input: [Int32] = [0, 0], output: [Int32] = [0, 0], errors: [Int32] = [0, 0]
    guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else { throw POSIXError(.EMFILE) }
    let child: Subprocess
    do {
        child = try Subprocess(executable, arguments, stdin: input[0], stdout: output[1], stderr: errors[1])
    } catch {
        (input + output + errors).forEach { close($0) }
        throw error
    }
    [input[0], output[1], errors[1]].forEach { close($0) }
    if let stdin {
        _ = stdin.utf8CString.withUnsafeBufferPointer { write(input[1], $0.baseAddress, $0.count - 1) }
    }
    close(input[1])

    // Both streams are drained while the child runs, so a chatty one never blocks on a full pipe.
    let drained = Mutex<(out: Data, err: Data)>((Data(), Data()))
    let done = DispatchGroup()
    for (descriptor, isError) in [(output[0], false), (errors[0], true)] {
        done.enter()
        Thread {
            let data = readAll(descriptor)
            close(descriptor)
            drained.withLock { if isError { $0.err = data } else { $0.out = data } }
            done.leave()
        }.start()
    }
    let deadline = Date().addingTimeInterval(timeout)
    while child.isRunning && Date() < deadline { usleep(5_000) }
    if child.isRunning {
        child.send(SIGKILL)
        child.waitUntilExit()
        done.wait()
        throw ProcessTimedOut(command: ([executable] + arguments).joined(separator: " "))
    }
    done.wait()
    let (out, err) = drained.withLock { $0 }
    return ProcessResult(
        status: child.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
}

/// The `homerules` executable built beside the test bundle, for tests of the
/// command line's output and exit codes.
public enum HomeRulesBinary {
    public static var path: String {
        // The test bundle runs from the build folder, where the executable is too.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("homerules").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("homerules").path
    }

    /// Runs `homerules` with the arguments, in `directory` when given.
    @discardableResult
    public static func run(_ arguments: [String], in directory: String? = nil, timeout: TimeInterval = 30) async throws -> ProcessResult {
        guard let directory else { return try await TestSupport.run(path, arguments, timeout: timeout) }
        return try await TestSupport.run("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", directory, path] + arguments, timeout: timeout)
    }
}
