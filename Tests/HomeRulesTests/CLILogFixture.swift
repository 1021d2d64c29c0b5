import EventLog
import Foundation
import TestSupport

/// A home and the event log that `homerules serve` would have left in it,
/// written with the real `EventWriter`, for the tests of `devices`, `events`
/// and `why`.
///
/// The log tells of the evening of 2025-03-01 (UTC): the living room gets
/// hot, `hot-room-led` lights the LED, the desk plug drops off the network
/// and `device-offline` says so. The device state is relative to now, so
/// that relative times ("online for 3 h") are known.
final class CLILogHome: Sendable {
    let directory: TemporaryDirectory
    /// When the test started; device state is written relative to it.
    let now: Date

    /// 2025-03-01 21:03:40 UTC: the message that makes the room hot.
    static let hotMessageTime = Date(timeIntervalSince1970: 1_740_863_020)
    /// The ids the writer gave the events of the story.
    struct IDs: Sendable {
        var hotMessage: Int64 = 0
        var fired: Int64 = 0
        var ledAction: Int64 = 0
        var deskOffline: Int64 = 0
    }

    let ids: IDs

    var databasePath: String { directory.file("homerules.sqlite").path }
    var devicesPath: String { directory.file("devices").path }

    /// The example devices of the repository, and the log.
    init(recentMessages: Bool = true) async throws {
        directory = try TemporaryDirectory()
        now = Date()
        try ExampleHomeFiles.copy(to: directory.url, devicesOnly: true)
        var ids = IDs()
        let now = self.now
        try await Self.write(to: directory.file("homerules.sqlite").path) { writer in
            ids = await Self.writeStory(writer)
            await Self.writeDeviceState(writer, now: now)
            if recentMessages {
                await writer.record(Event(time: now.addingTimeInterval(-2 * 3600), kind: .message, device: "livingroom-node", entity: "temperature", topic: "home/livingroom-node/temperature", payload: "24"))
                await writer.record(Event(time: now.addingTimeInterval(-600), kind: .message, device: "livingroom-node", entity: "temperature", topic: "home/livingroom-node/temperature", payload: "25"))
            }
        }
        self.ids = ids
    }

    /// Runs the writer as the daemon does and waits until all is written.
    static func write(to path: String, _ body: (EventWriter) async throws -> Void) async throws {
        let writer = try EventWriter(database: try EventDatabase.openForWriting(path: path), flushInterval: .milliseconds(5))
        let loop = Task { await writer.run() }
        try await body(writer)
        writer.finish()
        await loop.value
    }

    private static func writeStory(_ writer: EventWriter) async -> IDs {
        let t = hotMessageTime
        var ids = IDs()
        func at(_ seconds: Double) -> Date { t.addingTimeInterval(seconds) }
        await writer.record(Event(time: at(-60), kind: .reload, detail: "3 devices, 5 sensors, 2 actuators, 3 rules"))
        let birth = await writer.record(Event(time: at(-50), kind: .message, device: "livingroom-node", topic: "home/livingroom-node/status", payload: "online"))
        await writer.record(Event(time: at(-50), kind: .presence, device: "livingroom-node", payload: "online", detail: "announced 'online' on home/livingroom-node/status", cause: birth))
        let cool = await writer.record(Event(time: at(-20), kind: .message, device: "livingroom-node", entity: "temperature", topic: "home/livingroom-node/temperature", payload: "27.5"))
        await writer.record(Event(time: at(-20), kind: .ruleSkipped, rule: "hot-room-led", detail: "temperature 27.5 is not above 28", cause: cool))
        await writer.record(Event(time: at(-10), kind: .message, device: "livingroom-node", entity: "temperature", topic: "home/livingroom-node/temperature", payload: "abc", detail: "payload 'abc' is not a number"))
        ids.hotMessage = await writer.record(Event(time: t, kind: .message, device: "livingroom-node", entity: "temperature", topic: "home/livingroom-node/temperature", payload: "29.5"))
        await writer.record(Event(time: t, kind: .ruleSkipped, rule: "hot-room-led", detail: "held 0 s of 30 s", cause: ids.hotMessage))
        ids.fired = await writer.record(Event(time: at(30), kind: .ruleFired, rule: "hot-room-led", detail: "temperature 29.5 is above 28 for 30 s", cause: ids.hotMessage))
        ids.ledAction = await writer.record(Event(time: at(30), kind: .action, device: "livingroom-node", entity: "led", topic: "home/livingroom-node/led/set", payload: "on", rule: "hot-room-led", detail: "set led on", cause: ids.fired))
        await writer.record(Event(time: at(32), kind: .message, device: "livingroom-node", entity: "led", topic: "home/livingroom-node/led", payload: "on"))
        let lwt = await writer.record(Event(time: at(100), kind: .message, device: "desk-plug", topic: "tele/desk-plug/LWT", payload: "Offline"))
        ids.deskOffline = await writer.record(Event(time: at(100), kind: .presence, device: "desk-plug", payload: "offline", detail: "announced 'Offline' on tele/desk-plug/LWT", cause: lwt))
        let alert = await writer.record(Event(time: at(100), kind: .ruleFired, rule: "device-offline", detail: "desk-plug went offline", cause: ids.deskOffline))
        await writer.record(Event(time: at(100), kind: .action, topic: "home/alerts", payload: "Desk plug went offline", rule: "device-offline", detail: "publish", cause: alert))
        return ids
    }

    private static func writeDeviceState(_ writer: EventWriter, now: Date) async {
        let deskOffline = hotMessageTime.addingTimeInterval(100)
        await writer.update(.presence(device: "livingroom-node", state: "online", since: now.addingTimeInterval(-3 * 3600)))
        await writer.update(.seen(device: "livingroom-node", at: now.addingTimeInterval(-5 * 60)))
        await writer.update(.entity(EntityStateRecord(device: "livingroom-node", entity: "temperature", role: .sensor, value: "29.5", updatedAt: now.addingTimeInterval(-5 * 60))))
        await writer.update(.entity(EntityStateRecord(device: "livingroom-node", entity: "led", role: .actuator, value: "on", updatedAt: hotMessageTime.addingTimeInterval(32))))
        await writer.update(.presence(device: "desk-plug", state: "offline", since: deskOffline))
        await writer.update(.seen(device: "desk-plug", at: deskOffline))
        await writer.update(.entity(EntityStateRecord(device: "desk-plug", entity: "power", role: .sensor, value: "12.5", updatedAt: deskOffline)))
        await writer.update(.entity(EntityStateRecord(device: "desk-plug", entity: "relay", role: .actuator, value: "off", updatedAt: deskOffline)))
        // A device the log heard of that no file defines.
        await writer.update(.seen(device: "garage-node", at: now.addingTimeInterval(-125)))
        await writer.update(.entity(EntityStateRecord(device: "garage-node", entity: "door", role: .sensor, value: "open", updatedAt: now.addingTimeInterval(-125))))
    }

    /// Runs `homerules` in the home's directory, in UTC so that clock
    /// times are known.
    func homerules(_ arguments: [String]) async throws -> ProcessResult {
        try await CLILogHome.homerules(arguments, in: directory.path)
    }

    static func homerules(_ arguments: [String], in directory: String) async throws -> ProcessResult {
        try await run("/bin/sh", ["-c", "cd \"$0\" && TZ=UTC exec \"$@\"", directory, HomeRulesBinary.path] + arguments)
    }
}
