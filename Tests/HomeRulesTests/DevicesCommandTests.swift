import EventLog
import Foundation
import Rules
import TestSupport
import Testing

@Suite("homerules devices", .timeLimit(.minutes(5)))
struct DevicesCommandTests {
    /// The cells of a table line: columns are two or more spaces apart.
    private func cells(_ line: Substring) -> [String] {
        line.replacing(/\ {2,}/, with: "\t").split(separator: "\t").map(String.init)
    }

    @Test func theTableShowsEveryDeviceDefinedOrHeardOf() async throws {
        let home = try await CLILogHome()
        let result = try await home.homerules(["devices"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == 5)
        #expect(cells(lines[0]) == ["DEVICE", "NAME", "PRESENCE", "LAST SEEN", "SENSORS", "ACTUATORS"])
        // Defined in devices/ but never heard of.
        #expect(cells(lines[1]) == ["bedroom-sensor", "Bedroom sensor", "unknown", "never", "temperature –, humidity –, battery –", "–"])
        let deskPlug = cells(lines[2])
        #expect(deskPlug.count == 6)
        #expect(deskPlug.first == "desk-plug")
        #expect(deskPlug.dropFirst().first == "Desk plug")
        #expect(deskPlug.dropFirst(2).first == "offline since 2025-03-01 21:05")
        #expect(deskPlug.dropFirst(3).first?.hasSuffix(" ago") == true)
        #expect(Array(deskPlug.suffix(2)) == ["power 12.5 W", "relay off"])
        // Heard of, but defined in no file: no name, no units.
        #expect(cells(lines[3]) == ["garage-node", "–", "unknown", "2 min ago", "door open", "–"])
        #expect(cells(lines[4]) == ["livingroom-node", "Living room ESP8266", "online for 3 h", "5 min ago", "temperature 29.5 °C", "led on"])
        #expect(!result.stdout.contains(" \n"))
    }

    @Test func jsonIsAnArrayWithTheSameKeysForEveryDevice() async throws {
        let home = try await CLILogHome()
        let result = try await home.homerules(["devices", "--json"])
        #expect(result.status == 0)
        let devices = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(devices.map { $0["id"] as? String } == ["bedroom-sensor", "desk-plug", "garage-node", "livingroom-node"])
        let keys: Set = ["id", "name", "room", "presence", "presenceSince", "lastSeen", "provisional", "sensors", "actuators"]
        for device in devices { #expect(Set(device.keys) == keys) }

        let bedroom = devices[0]
        #expect(bedroom["presence"] as? String == "unknown")
        #expect(bedroom["lastSeen"] is NSNull)
        let bedroomSensors = try #require(bedroom["sensors"] as? [[String: Any]])
        #expect(bedroomSensors.map { $0["name"] as? String } == ["temperature", "humidity", "battery"])
        #expect(bedroomSensors.allSatisfy { $0["value"] is NSNull && $0["updatedAt"] is NSNull })

        let deskPlug = devices[1]
        #expect(deskPlug["name"] as? String == "Desk plug")
        #expect(deskPlug["room"] as? String == "office")
        #expect(deskPlug["presence"] as? String == "offline")
        #expect(deskPlug["presenceSince"] as? String == "2025-03-01T21:05:20.000Z")
        let relay = try #require((deskPlug["actuators"] as? [[String: Any]])?.first)
        #expect(relay["name"] as? String == "relay")
        #expect(relay["state"] as? String == "off")
        #expect(Set(relay.keys) == ["name", "state", "updatedAt", "restored"])
        #expect(relay["restored"] as? Bool == false)
        #expect(deskPlug["provisional"] as? Bool == false)

        let livingroom = devices[3]
        let temperature = try #require((livingroom["sensors"] as? [[String: Any]])?.first)
        #expect(temperature["value"] as? String == "29.5")
        #expect(temperature["unit"] as? String == "°C")
        #expect(Set(temperature.keys) == ["name", "value", "unit", "updatedAt", "restored"])
        let since = try Date((livingroom["presenceSince"] as? String) ?? "", strategy: .iso8601)
        #expect(abs(since.timeIntervalSince(home.now.addingTimeInterval(-3 * 3600))) < 0.01)

        let garage = devices[2]
        #expect(garage["name"] is NSNull)
        #expect(garage["presence"] as? String == "unknown")
    }

    @Test func withoutDefinitionsTheLogAloneIsShown() async throws {
        let home = try await CLILogHome()
        try FileManager.default.createDirectory(at: home.directory.file("no-definitions"), withIntermediateDirectories: true)
        let result = try await home.homerules(["devices", "--devices", "no-definitions"])
        #expect(result.status == 0)
        #expect(result.stderr == "warning: --devices no-definitions: no .yaml or .yml file in it\n")
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == 4, "\(result)")
        #expect(cells(lines[0]) == ["DEVICE", "PRESENCE", "LAST SEEN", "SENSORS", "ACTUATORS"])
        #expect(lines.dropFirst().map { cells($0)[0] } == ["desk-plug", "garage-node", "livingroom-node"])
        #expect(cells(lines[3]) == ["livingroom-node", "online for 3 h", "5 min ago", "temperature 29.5", "led on"])
    }

    /// After a restart the daemon saves which presence and values it
    /// restored and has not seen confirmed; the log's tables alone cannot tell.
    @Test func provisionalPresenceAndRestoredValuesAreShownAsSuchWithTheirAge() async throws {
        let directory = try TemporaryDirectory()
        let heard = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 7200).rounded(.down))
        let fresh = heard.addingTimeInterval(7000)
        let engine = EngineSnapshot(devices: [DeviceStatus(
            id: "node", presence: .online, presenceSince: heard, lastSeen: heard, provisional: true,
            sensors: ["temperature": SensorStatus(value: .number(24), updatedAt: heard, restored: true)],
            actuators: ["led": ActuatorStatus(state: .on, updatedAt: fresh)])])
        try await CLILogHome.write(to: directory.file("homerules.sqlite").path) { writer in
            await writer.update(.presence(device: "node", state: "online", since: heard))
            await writer.update(.seen(device: "node", at: heard))
            await writer.update(.entity(EntityStateRecord(device: "node", entity: "temperature", role: .sensor, value: "24", updatedAt: heard)))
            await writer.update(.entity(EntityStateRecord(device: "node", entity: "led", role: .actuator, value: "on", updatedAt: fresh)))
            await writer.update(.state(key: EngineSnapshot.storageKey, value: try JSONEncoder().encode(engine), at: fresh))
        }
        let table = try await CLILogHome.homerules(["devices"], in: directory.path)
        #expect(table.status == 0)
        #expect(table.stdout.split(separator: "\n").last.map(cells) == [
            "node", "online? (restored, unconfirmed, last heard 2 h ago)", "2 h ago", "temperature 24 (restored, 2 h old)", "led on",
        ])

        let json = try await CLILogHome.homerules(["devices", "--json"], in: directory.path)
        let devices = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let node = try #require(devices.first)
        #expect(node["provisional"] as? Bool == true)
        #expect((node["sensors"] as? [[String: Any]])?.first?["restored"] as? Bool == true)
        #expect((node["actuators"] as? [[String: Any]])?.first?["restored"] as? Bool == false)
    }

    @Test func aDeviceThatWentOfflineTodayShowsTheClockTime() async throws {
        let directory = try TemporaryDirectory()
        let now = Date()
        let offline = now.addingTimeInterval(-120)
        try await CLILogHome.write(to: directory.file("homerules.sqlite").path) { writer in
            await writer.update(.presence(device: "node", state: "offline", since: offline))
            await writer.update(.seen(device: "node", at: offline))
        }
        let result = try await CLILogHome.homerules(["devices"], in: directory.path)
        #expect(result.status == 0)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute], from: offline)
        var expected = String(format: "%02d:%02d", parts.hour!, parts.minute!)
        if !utc.isDate(offline, inSameDayAs: now) {
            expected = String(format: "%04d-%02d-%02d ", parts.year!, parts.month!, parts.day!) + expected
        }
        #expect(result.stdout.split(separator: "\n").last.map(cells) == ["node", "offline since \(expected)", "2 min ago", "–", "–"])
    }

    @Test func anEmptyLogAndNoDefinitionsSaySo() async throws {
        let directory = try TemporaryDirectory()
        try await CLILogHome.write(to: directory.file("homerules.sqlite").path) { _ in }
        let result = try await CLILogHome.homerules(["devices"], in: directory.path)
        #expect(result.status == 0)
        #expect(result.stdout == "No devices: the event log has none and devices defines none.\n")
        #expect(try await CLILogHome.homerules(["devices", "--json"], in: directory.path).stdout == "[]\n")
    }

    @Test func aMissingDatabaseIsAClearErrorWithExitStatus1() async throws {
        let directory = try TemporaryDirectory()
        let result = try await CLILogHome.homerules(["devices", "--database", "nowhere/homerules.sqlite"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == "error: nowhere/homerules.sqlite: no such database (has `homerules serve` run here?)\n")
    }

    @Test func aFileThatIsNotAnEventLogIsRefused() async throws {
        let directory = try TemporaryDirectory()
        try "hello\n".write(to: directory.file("notes.txt"), atomically: true, encoding: .utf8)
        let result = try await CLILogHome.homerules(["devices", "--database", "notes.txt"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr == """
            error: notes.txt: not an SQLite database, or an encrypted one; \
            give --database another file, or move this one away to start a new log

            """)
    }

    @Test func aBrokenDeviceFileIsReportedWithItsLocation() async throws {
        let home = try await CLILogHome()
        try "id: broken\nsensors:\n  t: { topic: a/b, type: nmuber }\n"
            .write(to: home.directory.file("devices/broken.yaml"), atomically: true, encoding: .utf8)
        let result = try await home.homerules(["devices"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("devices/broken.yaml:3:"))
    }
}

extension DevicesCommandTests {
    @Test func jsonTimesAreTheStoredMillisecond() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("homerules.sqlite").path
        // .831 has no exact binary form: read back, it is .830999…
        let seen = Date(timeIntervalSince1970: 1_795_743_591.831)
        try await CLILogHome.write(to: path) { writer in await writer.update(.seen(device: "node", at: seen)) }
        let result = try await CLILogHome.homerules(["devices", "--json"], in: directory.path)
        #expect(result.stdout.contains("\"lastSeen\":\"2026-11-27T01:39:51.831Z\""))
    }
}

@Suite("homerules devices with a named directory", .timeLimit(.minutes(5)))
struct DevicesDirectoryTests {
    @Test func aNamedDirectoryThatDoesNotExistIsAnError() async throws {
        let home = try await CLILogHome()
        let result = try await home.homerules(["devices", "--devices", "devicez"])
        #expect(result.status == 1)
        #expect(result.stderr == "error: --devices devicez: no such directory\n")
        #expect(result.stdout.isEmpty)
    }
}
