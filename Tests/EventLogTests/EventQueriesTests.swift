import EventLog
import Foundation
import TestSupport
import Testing

@Suite("Event log queries", .timeLimit(.minutes(5)))
struct EventQueriesTests {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Writes with the real writer, as the daemon does, and returns the
    /// database reopened read-only, as the CLI does.
    private func database(
        _ directory: TemporaryDirectory, _ body: (EventWriter) async throws -> Void
    ) async throws -> EventDatabase {
        let path = directory.file("homerules.sqlite").path
        let writer = try EventWriter(database: try EventDatabase.openForWriting(path: path), flushInterval: .milliseconds(5))
        let loop = Task { await writer.run() }
        try await body(writer)
        writer.finish()
        await loop.value
        return try EventDatabase.openReadOnly(path: path)
    }

    @Test func anEventIsFoundByItsId() async throws {
        let directory = try TemporaryDirectory()
        var id: Int64 = 0
        let database = try await database(directory) { writer in
            await writer.record(Event(time: start, kind: .reload, detail: "1 device"))
            id = await writer.record(Event(time: start, kind: .error, detail: "boom"))
        }
        #expect(try database.event(id: id)?.detail == "boom")
        #expect(try database.event(id: 999) == nil)
    }

    @Test func actionsCausedByAFiringAreOnlyThoseItCaused() async throws {
        let directory = try TemporaryDirectory()
        var firstFiring: Int64 = 0
        var secondFiring: Int64 = 0
        let database = try await database(directory) { writer in
            let message = await writer.record(Event(time: start, kind: .message, device: "node", entity: "temperature", topic: "t", payload: "29"))
            firstFiring = await writer.record(Event(time: start, kind: .ruleFired, rule: "hot", detail: "above", cause: message))
            await writer.record(Event(time: start, kind: .action, device: "node", entity: "led", topic: "led/set", payload: "on", rule: "hot", detail: "set led on", cause: firstFiring))
            await writer.record(Event(time: start.addingTimeInterval(1), kind: .action, topic: "alerts", payload: "hot", rule: "hot", detail: "publish", cause: firstFiring))
            // Another rule's action and a later firing of the same rule.
            let other = await writer.record(Event(time: start, kind: .ruleFired, rule: "cold", cause: message))
            await writer.record(Event(time: start, kind: .action, device: "node", entity: "fan", rule: "cold", cause: other))
            secondFiring = await writer.record(Event(time: start.addingTimeInterval(60), kind: .ruleFired, rule: "hot", detail: "otherwise: below"))
            await writer.record(Event(time: start.addingTimeInterval(60), kind: .action, device: "node", entity: "led", payload: "off", rule: "hot", cause: secondFiring))
        }
        let first = try #require(try database.event(id: firstFiring))
        #expect(try database.actions(causedBy: first).map(\.detail) == ["set led on", "publish"])
        let second = try #require(try database.event(id: secondFiring))
        #expect(try database.actions(causedBy: second).map(\.payload) == ["off"])
        let message = try #require(try database.events(EventFilter(kinds: [.message])).first)
        #expect(try database.actions(causedBy: message).isEmpty)
    }

    @Test func aRuleIsKnownWhenAnyEventNamesIt() async throws {
        let directory = try TemporaryDirectory()
        let database = try await database(directory) { writer in
            await writer.record(Event(time: start, kind: .ruleSkipped, rule: "hot", detail: "27 is not above 28"))
        }
        #expect(try database.hasEvents(forRule: "hot"))
        #expect(try database.hasEvents(forRule: "cold") == false)
    }

    @Test func anEntityStateIsReadByDeviceNameAndRole() async throws {
        let directory = try TemporaryDirectory()
        let database = try await database(directory) { writer in
            await writer.update(.entity(EntityStateRecord(device: "node", entity: "led", role: .actuator, value: "off", updatedAt: start)))
            await writer.update(.entity(EntityStateRecord(device: "node", entity: "led", role: .actuator, value: "on", updatedAt: start.addingTimeInterval(5))))
            await writer.update(.entity(EntityStateRecord(device: "node", entity: "temperature", role: .sensor, value: "21.5", updatedAt: start)))
        }
        let led = try database.entityState(device: "node", entity: "led", role: .actuator)
        #expect(led?.value == "on")
        #expect(led?.updatedAt == start.addingTimeInterval(5))
        #expect(try database.entityState(device: "node", entity: "led", role: .sensor) == nil)
        #expect(try database.entityState(device: "node", entity: "temperature", role: .sensor)?.value == "21.5")
        #expect(try database.entityState(device: "other", entity: "led", role: .actuator) == nil)
    }
}
