import EventLog
import Foundation
import GRDB
import TestSupport
import Testing

@Suite("Event log writer", .timeLimit(.minutes(5)))
struct EventWriterTests {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    private func withWriter(
        batchSize: Int = 100, capacity: Int = 1000,
        _ body: (EventWriter, EventDatabase, TemporaryDirectory) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory()
        let database = try EventDatabase.openForWriting(path: directory.file("homerules.sqlite").path)
        let writer = try EventWriter(database: database, batchSize: batchSize, flushInterval: .milliseconds(10), capacity: capacity)
        let loop = Task { await writer.run() }
        try await body(writer, database, directory)
        writer.finish()
        await loop.value
    }

    @Test func eventsAreWrittenWithIdsThatLinkCauses() async throws {
        try await withWriter { writer, database, _ in
            let message = await writer.record(Event(time: start, kind: .message, device: "node", entity: "temperature", topic: "home/node/temperature", payload: "29.1"))
            let fired = await writer.record(Event(time: start, kind: .ruleFired, rule: "hot", detail: "temperature 29.1 is above 28", cause: message))
            let action = await writer.record(Event(time: start, kind: .action, device: "node", entity: "led", topic: "home/node/led/set", payload: "on", rule: "hot", cause: fired))
            writer.finish()
            #expect(try await waitFor { try database.events(EventFilter()).count == 3 })
            let chain = try database.causeChain(of: action)
            #expect(chain.map(\.kind) == [.action, .ruleFired, .message])
            #expect(chain.last?.payload == "29.1")
            #expect(try database.latestEvent(kind: .action, device: "node", entity: "led")?.id == action)
        }
    }

    @Test func finishWritesEverythingQueued() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("log.sqlite").path
        let database = try EventDatabase.openForWriting(path: path)
        let writer = try EventWriter(database: database, batchSize: 64, flushInterval: .seconds(60), capacity: 100_000)
        let loop = Task { await writer.run() }
        for index in 0..<5000 {
            await writer.record(Event(time: start, kind: .message, topic: "t", payload: "\(index)"))
        }
        writer.finish()
        await loop.value
        let reader = try EventDatabase.openReadOnly(path: path)
        let all = try reader.events(EventFilter(limit: 10_000))
        #expect(all.count == 5000)
        #expect(all.map(\.payload) == (0..<5000).map { "\($0)" })
        #expect(writer.failedEntries == 0)
    }

    @Test func producersWaitWhenTheQueueIsFullAndNothingIsLost() async throws {
        try await withWriter(batchSize: 10, capacity: 20) { writer, database, _ in
            await withTaskGroup(of: Void.self) { group in
                for producer in 0..<4 {
                    group.addTask {
                        for index in 0..<250 {
                            await writer.record(Event(time: start, kind: .message, device: "p\(producer)", payload: "\(index)"))
                            // The queue never grows past its capacity.
                            #expect(writer.backlog <= 20)
                        }
                    }
                }
            }
            writer.finish()
            #expect(try await waitFor { try database.events(EventFilter(limit: 5000)).count == 1000 })
            for producer in 0..<4 {
                let payloads = try database.events(EventFilter(device: "p\(producer)", limit: 1000)).compactMap(\.payload)
                #expect(payloads == (0..<250).map { "\($0)" })
            }
        }
    }

    @Test(.enabled(if: Peers.enabled("python3")))
    func aLockedDatabaseIsRetriedNotDropped() async throws {
        let python = try Peers.require("python3")
        try await withWriter { writer, database, directory in
            // Another program (the sqlite3 shell, a backup) holds the write lock
            // for longer than the busy timeout.
            let locker = try BackgroundProcess(python, ["-u", "-c", """
                import sqlite3, sys, time
                connection = sqlite3.connect(sys.argv[1], isolation_level=None)
                connection.execute("BEGIN IMMEDIATE")
                print("locked", flush=True)
                time.sleep(3)
                connection.execute("COMMIT")
                """, directory.file("homerules.sqlite").path])
            defer { locker.stop() }
            #expect(await locker.waitForOutput { $0.contains("locked") })
            await writer.record(Event(time: start, kind: .error, detail: "written after the lock is gone"))
            #expect(try await waitFor(timeout: .seconds(30)) { try database.events(EventFilter()).count == 1 })
            #expect(writer.failedEntries == 0)
        }
    }

    @Test func deviceStateIsUpserted() async throws {
        try await withWriter { writer, database, _ in
            await writer.update(.presence(device: "node", state: "online", since: start))
            await writer.update(.seen(device: "node", at: start.addingTimeInterval(5)))
            await writer.update(.entity(EntityStateRecord(device: "node", entity: "temperature", role: .sensor, value: "21.5", updatedAt: start)))
            await writer.update(.entity(EntityStateRecord(device: "node", entity: "temperature", role: .sensor, value: "22", updatedAt: start.addingTimeInterval(1))))
            await writer.update(.entity(EntityStateRecord(device: "node", entity: "led", role: .actuator, value: "on", updatedAt: start)))
            await writer.update(.presence(device: "node", state: "offline", since: start.addingTimeInterval(9)))
            writer.finish()
            #expect(try await waitFor { try database.devices().first?.state.presence == "offline" })
            let node = try #require(try database.devices().first)
            #expect(node.state.presenceSince == start.addingTimeInterval(9))
            #expect(node.state.lastSeen == start.addingTimeInterval(5))
            #expect(node.sensors.map(\.value) == ["22"])
            #expect(node.actuators.map(\.value) == ["on"])
        }
    }

    @Test func retentionPurgesOldEvents() async throws {
        try await withWriter { writer, database, _ in
            for day in 0..<10 {
                await writer.record(Event(time: start.addingTimeInterval(Double(day) * 86_400), kind: .message, payload: "day \(day)"))
            }
            await writer.update(.purge(before: start.addingTimeInterval(7 * 86_400)))
            writer.finish()
            let purged = try await waitFor { try database.events(EventFilter()).map { $0.payload } == ["day 7", "day 8", "day 9"] }
            #expect(purged)
        }
    }

    @Test func longPayloadsAreCutAtACharacterBoundary() async throws {
        let directory = try TemporaryDirectory()
        let database = try EventDatabase.openForWriting(path: directory.file("cut.sqlite").path)
        let writer = try EventWriter(database: database, maximumPayloadLength: 5)
        let loop = Task { await writer.run() }
        await writer.record(Event(time: start, kind: .message, payload: "abcdé€"))
        writer.finish()
        await loop.value
        #expect(try database.events(EventFilter()).first?.payload == "abcd…")
    }

    @Test func aRestartedWriterContinuesTheIds() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("ids.sqlite").path
        for _ in 0..<2 {
            let writer = try EventWriter(database: try EventDatabase.openForWriting(path: path))
            let loop = Task { await writer.run() }
            await writer.record(Event(time: start, kind: .reload))
            writer.finish()
            await loop.value
        }
        #expect(try EventDatabase.openReadOnly(path: path).events(EventFilter()).map(\.id) == [1, 2])
    }

    @Test func readersSeeTheLogWhileTheWriterRuns() async throws {
        try await withWriter { writer, database, directory in
            let reader = try EventDatabase.openReadOnly(path: directory.file("homerules.sqlite").path)
            await writer.record(Event(time: start, kind: .presence, device: "node", detail: "online"))
            #expect(try await waitFor { try reader.events(EventFilter()).count == 1 })
        }
    }

    @Test func readOnlyOpenOfAMissingFileSaysSo() throws {
        #expect(throws: EventLogError.missingDatabase("/nonexistent/homerules.sqlite")) {
            try EventDatabase.openReadOnly(path: "/nonexistent/homerules.sqlite")
        }
    }
}

/// Polls a condition until it holds, up to a generous time limit.
func waitFor(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}
