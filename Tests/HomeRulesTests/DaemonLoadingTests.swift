import EventLog
import Foundation
import HomeRules
import TestSupport
import Testing

/// Loading the home never runs on the broker's thread: a load that takes
/// long neither stops the broker from serving nor the rules in force from
/// running, and it does not hold up a shutdown.
@Suite("homerules serve while the home loads", .timeLimit(.minutes(5)))
struct DaemonLoadingTests {
    @Test func theBrokerListensAndServesBeforeTheHomeHasLoaded() async throws {
        let loader = HeldLoader()
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules, loader: loader, waitUntilServing: false) { harness in
            try #require(await loader.waitForLoads(1))

            // The load is held, and clients are served.
            let device = try await TestDevice.connect(id: "node", port: harness.port)
            try await device.publish("lab/ping", "1")
            #expect(try await device.waitForMessage(on: "lab/ping").payloadString == "1")
            #expect(device.messages(on: "homerules/status").isEmpty)

            loader.release()
            try await harness.waitUntilServing()
            try await device.publish("home/node/temperature", "25")
            try await device.publish("home/node/temperature", "29.5")
            #expect(try await device.waitForMessage(on: "home/node/led/set").payloadString == "on")
            await device.disconnect()
        }
    }

    @Test func aReloadThatTakesLongLeavesTheBrokerServingAndTheRulesRunning() async throws {
        let loader = HeldLoader(passing: 1)
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules, loader: loader) { harness in
            try harness.writeRule("cold.yaml", TestHome.coldRule)
            try #require(await loader.waitForLoads(2))

            // The reload is held: the broker serves and the rules in force run.
            let device = try await TestDevice.connect(id: "node", port: harness.port)
            try await device.publish("home/node/temperature", "25")
            try await device.publish("home/node/temperature", "29.5")
            #expect(try await device.waitForMessage(on: "home/node/led/set").payloadString == "on")

            loader.release()
            _ = try await harness.waitForEvents {
                $0.contains { $0.kind == .reload && $0.detail == "files changed: 1 device, 1 sensor, 1 actuator, 3 rules" }
            }
            await device.disconnect()
        }
    }

    @Test func aShutdownDuringALoadThatNeverEndsIsPrompt() async throws {
        let loader = HeldLoader()
        let harness = try await DaemonHarness.start(
            devices: TestHome.devices, rules: TestHome.rules, loader: loader, waitUntilServing: false)
        try #require(await loader.waitForLoads(1))
        // Returns although the load is still held (the harness lets it go only afterwards).
        try await harness.stop()
        let events = try harness.database().events(EventFilter())
        #expect(events.isEmpty)
    }

    @Test func anUncleanStopIsRecordedEvenWhenTheFirstLoadNeverEnds() async throws {
        let directory = try TemporaryDirectory()
        // The log of a run that was killed: its writer never finished.
        _ = try EventWriter(database: try EventDatabase.openForWriting(path: directory.file("homerules.sqlite").path))
        let loader = HeldLoader()
        let harness = try await DaemonHarness.start(
            devices: TestHome.devices, rules: TestHome.rules, in: directory, loader: loader, waitUntilServing: false)
        try #require(await loader.waitForLoads(1))
        try await harness.stop()
        let events = try harness.database().events(EventFilter())
        #expect(events.count == 1)
        #expect(events.first?.kind == .error && events.first?.detail?.hasPrefix("the last run did not stop cleanly") == true)
    }

    @Test func serveListensWhileALargeHomeLoadsAndStopsPromptlyOnSIGTERM() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("devices"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.file("rules"), withIntermediateDirectories: true)
        try TestHome.devices["node.yaml"]!.write(to: directory.file("devices/node.yaml"), atomically: true, encoding: .utf8)
        // Valid, and seconds of parsing: 40,000 rules, in files of 4,000 (a YAML document holds at most 100,000 nodes).
        let rules = (0..<40_000).map { "- id: r\($0)\n  when: { sensor: node.temperature, above: \($0 % 50) }\n  then:\n    - { set: node.led, to: on }\n" }
        for file in 0..<10 {
            try rules[(file * 4_000)..<((file + 1) * 4_000)].joined()
                .write(to: directory.file("rules/many-\(file).yaml"), atomically: true, encoding: .utf8)
        }
        try "listeners:\n  - { port: 0 }\n".write(to: directory.file("homerules.yaml"), atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(
            "/bin/sh", ["-c", "cd \"$0\" && exec \"$1\" serve --config homerules.yaml", directory.path, HomeRulesBinary.path])
        defer { serve.stop() }

        #expect(await serve.waitForOutput(timeout: 60) { $0.contains("listening on 127.0.0.1:") })
        // The loading thread is at work (for some 20 s of a debug build's time)...
        try #require(await Self.waitForThread(named: "homerules-load", in: serve.pid), "\(serve.output)")
        // ...and the broker serves meanwhile.
        let port = try #require(ServeOutput.port(in: serve.output))
        let probe = try await TestDevice.connect(id: "probe", port: port, within: .seconds(30))
        await probe.disconnect()

        let signalled = ContinuousClock.now
        serve.process.send(SIGTERM)
        #expect(await serve.waitForExit(timeout: 30) == 0, "\(serve.output)")
        #expect(ContinuousClock.now - signalled < .seconds(30))
        #expect(!serve.output.contains("serving"), "the load should still have been running")
    }

    /// Waits until the process has a thread of that name, up to 60 s.
    private static func waitForThread(named name: String, in pid: pid_t) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                let comm = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8)
                if comm?.trimmingCharacters(in: .whitespacesAndNewlines) == name { return true }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

/// What `homerules serve` prints.
enum ServeOutput {
    /// The port from `listening on 127.0.0.1:PORT`.
    static func port(in output: String) -> Int? {
        guard let range = output.range(of: "listening on 127.0.0.1:") else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }
}
