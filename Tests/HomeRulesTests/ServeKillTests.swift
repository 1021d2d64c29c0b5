import EventLog
import Foundation
import GRDB
import TestSupport
import Testing

/// `homerules serve` killed with SIGKILL while devices publish: the log
/// stays whole, nothing that `homerules events` showed is lost, ids go on
/// above everything handed out, and the daemon serves again at once.
@Suite("homerules serve after kill -9", .timeLimit(.minutes(5)))
struct ServeKillTests {
    @Test func aKillUnderLoadLosesOnlyWhatWasQueuedAndTheDaemonServesAgainAtOnce() async throws {
        let home = try ServeHome()
        let first = try home.serve()
        defer { first.stop() }
        #expect(await first.waitForOutput(timeout: 60) { $0.contains("serving 1 device") }, "\(first.output)")

        // Devices publish steadily (readings that cross the rule's threshold every time) until the kill.
        let devices = try await (0..<3).asyncMap { index in try await TestDevice.connect(id: "node-\(index)", port: home.port) }
        let publishers = devices.map { device in
            Task {
                var sent = 0
                while !Task.isCancelled, sent < 200_000 {
                    do {
                        try await device.publish("home/node/temperature", sent % 2 == 0 ? "25" : "29.5")
                    } catch {
                        break
                    }
                    sent += 1
                }
                return sent
            }
        }

        // What a user saw while it ran: every line must survive the kill.
        let seen = try await home.homerules(["events", "--json", "--limit", "1000000"], waitingFor: 2000)
        first.kill9()
        for publisher in publishers { publisher.cancel() }
        var sent = 0
        for publisher in publishers { sent += await publisher.value }
        for device in devices { await device.disconnect() }
        #expect(sent > 0)

        let integrity = try await DatabaseQueue(path: home.databasePath).read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == ["ok"])
        let seenIDs = try seen.map { try Event.fromJSON(Data($0.utf8)).id }

        // The restart: it serves (listens, loads, announces itself online) within 2 s.
        let restartedAt = ContinuousClock.now
        let second = try home.serve()
        defer { second.stop() }
        let watcher = try await TestDevice.connect(id: "watcher", port: home.port, within: .seconds(30))
        _ = try await watcher.waitForMessage(on: "homerules/status") { $0 == "online" }
        let serving = ContinuousClock.now - restartedAt
        #expect(serving < .seconds(2), "served again after \(serving)")
        await watcher.disconnect()

        let after = try await home.homerules(["events", "--json", "--limit", "1000000"])
        #expect(Set(seen).isSubset(of: Set(after.stdout.split(separator: "\n").map(String.init))))
        let events = try after.stdout.split(separator: "\n").map { try Event.fromJSON(Data($0.utf8)) }
        let unclean = try #require(events.last { $0.kind == .error && $0.detail?.hasPrefix("the last run did not stop cleanly") == true })
        // New ids start above everything the killed run may have handed out.
        let restartReload = try #require(events.last { $0.kind == .reload })
        #expect(restartReload.id > seenIDs.max()! && unclean.id > seenIDs.max()!)
        #expect(try EventDatabase.openReadOnly(path: home.databasePath).wasLost(eventID: restartReload.id - 1))

        second.process.send(SIGTERM)
        #expect(await second.waitForExit(timeout: 30) == 0)
    }
}

/// A home for `homerules serve` on a fixed free port, so that a restart is
/// found at once.
private struct ServeHome {
    let directory: TemporaryDirectory
    let port: Int

    var databasePath: String { directory.file("homerules.sqlite").path }

    init() throws {
        directory = try TemporaryDirectory()
        port = try freeLoopbackPort()
        for (folder, files) in [("devices", TestHome.devices), ("rules", TestHome.rules)] {
            try FileManager.default.createDirectory(at: directory.file(folder), withIntermediateDirectories: true)
            for (name, yaml) in files { try yaml.write(to: directory.file("\(folder)/\(name)"), atomically: true, encoding: .utf8) }
        }
        try "listeners:\n  - { port: \(port) }\n".write(to: directory.file("homerules.yaml"), atomically: true, encoding: .utf8)
    }

    func serve() throws -> BackgroundProcess {
        try BackgroundProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$1\" serve --config homerules.yaml", directory.path, HomeRulesBinary.path])
    }

    /// Runs the CLI in the home.
    func homerules(_ arguments: [String]) async throws -> ProcessResult {
        try await HomeRulesBinary.run(arguments, in: directory.path)
    }

    /// Runs the CLI until its output has at least `count` lines, up to 60 s; returns them.
    func homerules(_ arguments: [String], waitingFor count: Int) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let lines = try await homerules(arguments).stdout.split(separator: "\n").map(String.init)
            if lines.count >= count || ContinuousClock.now > deadline { return lines }
        }
    }
}

extension Sequence {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
