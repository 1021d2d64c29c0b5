import EventLog
import Foundation
import TestSupport
import Testing

/// The CLI reads the log while the daemon's writer keeps writing (WAL).
@Suite("homerules devices, events and why beside a running writer", .timeLimit(.minutes(5)))
struct CLILogWhileWritingTests {
    private func homerules(_ arguments: [String], in directory: String) async throws -> ProcessResult {
        try await CLILogHome.homerules(arguments, in: directory)
    }

    @Test func readersSeeAGrowingConsistentLogWhileTheWriterWrites() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("none"), withIntermediateDirectories: true)
        let path = directory.file("homerules.sqlite").path
        let writer = try EventWriter(database: try EventDatabase.openForWriting(path: path), batchSize: 50, flushInterval: .milliseconds(5))
        let writerLoop = Task { await writer.run() }
        let producer = Task {
            var recorded = 0
            // Bounded in count as well as by cancellation.
            while !Task.isCancelled, recorded < 100_000 {
                let now = Date()
                let message = await writer.record(Event(time: now, kind: .message, device: "node", entity: "temperature", topic: "home/node/temperature", payload: "\(recorded % 40)"))
                let fired = await writer.record(Event(time: now, kind: .ruleFired, rule: "hot", detail: "reading \(recorded)", cause: message))
                await writer.record(Event(time: now, kind: .action, device: "node", entity: "led", topic: "home/node/led/set", payload: "on", rule: "hot", detail: "set led on", cause: fired))
                await writer.update(.seen(device: "node", at: now))
                await writer.update(.entity(EntityStateRecord(device: "node", entity: "led", role: .actuator, value: "on", updatedAt: now)))
                recorded += 3
                try? await Task.sleep(for: .milliseconds(3))
            }
            return recorded
        }
        let reader = try EventDatabase.openReadOnly(path: path)

        var previousCount = 0
        for _ in 0..<4 {
            // Let the log grow past what the last run saw, then read it again.
            let grown = try await waitUntil { try reader.events(EventFilter(limit: 1)).first.map { Int($0.id) > previousCount + 30 } ?? false }
            try #require(grown)
            let result = try await homerules(["events", "--json", "--limit", "1000000"], in: directory.path)
            #expect(result.status == 0, "\(result.stderr)")
            let ids = try result.stdout.split(separator: "\n").map { try Event.fromJSON(Data($0.utf8)).id }
            // Whole batches only: always the ids 1...n, never a gap.
            #expect(ids.enumerated().allSatisfy { $0.element == Int64($0.offset + 1) })
            #expect(ids.count > previousCount)
            previousCount = ids.count

            let why = try await homerules(["why", "node.led", "--devices", "none"], in: directory.path)
            #expect(why.status == 0, "\(why.stderr)")
            #expect(why.stdout.contains("node.led was set on at "))
            #expect(why.stdout.contains("by rule hot,\n  which fired because reading "))
            let devices = try await homerules(["devices", "--json", "--devices", "none"], in: directory.path)
            #expect(devices.status == 0, "\(devices.stderr)")
            #expect(devices.stdout.contains("\"id\":\"node\""))
        }

        producer.cancel()
        let recorded = await producer.value
        writer.finish()
        await writerLoop.value
        #expect(writer.failedEntries == 0)
        let final = try await homerules(["events", "--json", "--limit", "1000000"], in: directory.path)
        #expect(final.stdout.split(separator: "\n").count == recorded)
    }

    /// Polls a condition for up to a minute: generous, for a cold machine
    /// busy with other tests, and no slower when it holds.
    private func waitUntil(_ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try condition()
    }
}
