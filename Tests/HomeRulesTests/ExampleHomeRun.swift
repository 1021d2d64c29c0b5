import Foundation
import TestSupport
import Testing

/// A copy of the shipped example home in a temporary folder, and the
/// `homerules` commands a user types in it.
struct ExampleHomeRun {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
        try ExampleHomeFiles.copy(to: directory.url)
    }

    /// Runs a command to its end (60 s at most).
    func homerules(_ arguments: [String]) async throws -> ProcessResult {
        try await HomeRulesBinary.run(arguments, in: directory.path, timeout: 60)
    }

    /// Runs a command until its result satisfies `condition` (the log is
    /// written in batches, a moment after the events are published), for at
    /// most 30 s; returns the last result.
    func homerules(_ arguments: [String], until condition: (ProcessResult) -> Bool) async throws -> ProcessResult {
        let deadline = ContinuousClock.now + .seconds(30)
        var result = try await homerules(arguments)
        while !condition(result), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            result = try await homerules(arguments)
        }
        return result
    }

    /// Starts a long-running command.
    func start(_ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", directory.path, HomeRulesBinary.path] + arguments)
    }

    /// `homerules serve` on a port of its own, once it serves the example
    /// home; with the `--broker` arguments that reach it.
    func serve() async throws -> (process: BackgroundProcess, broker: [String]) {
        let serve = try start(["serve", "--listen", "127.0.0.1:0"])
        guard await serve.waitForOutput(timeout: 60, { $0.contains("serving 3 devices") }),
              let port = ServeOutput.port(in: serve.output)
        else {
            serve.stop()
            throw ServeDidNotStart(output: serve.output)
        }
        return (serve, ["--broker", "mqtt://127.0.0.1:\(port)"])
    }
}

/// `homerules serve` did not say it serves within a minute.
struct ServeDidNotStart: Error, CustomStringConvertible {
    var output: String
    var description: String { "homerules serve did not start serving: \(output)" }
}
