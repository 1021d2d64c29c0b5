import Foundation
import TestSupport
import Testing
@testable import Rules

@Suite("The example home at the repository root", .timeLimit(.minutes(5))) struct ExampleHomeTests {
    /// The shipped files only: a user's own files beside them change nothing here.
    static func load() throws -> Home {
        try HomeLoader.load(
            deviceFiles: ExampleHomeFiles.devices.map { SourceFile(path: $0, text: try ExampleHomeFiles.text($0)) },
            ruleFiles: ExampleHomeFiles.rules.map { SourceFile(path: $0, text: try ExampleHomeFiles.text($0)) }
        ).get()
    }

    @Test func everythingInTheFoldersLoads() throws {
        let root = ExampleHomeFiles.repositoryRoot
        _ = try HomeLoader.load(
            devicesDirectory: root.appendingPathComponent("devices"), rulesDirectory: root.appendingPathComponent("rules")
        ).get()
    }

    @Test func isValid() throws {
        let home = try Self.load()
        #expect(home.summary == "3 devices, 5 sensors, 2 actuators, 3 rules")
        #expect(home.topics == [
            "home/livingroom-node/status", "home/livingroom-node/temperature", "home/livingroom-node/led",
            "tele/desk-plug/LWT", "tele/desk-plug/SENSOR", "stat/desk-plug/POWER",
            "zigbee2mqtt/bedroom-sensor/availability", "zigbee2mqtt/bedroom-sensor",
        ])
    }

    @Test func runs() throws {
        var engine = Engine(home: try Self.load(), now: testStart, timeZone: utc)
        var id: InputID = 0
        func send(_ topic: String, _ text: String, retained: Bool = false, at seconds: Double) -> [Output] {
            id += 1
            return engine.handle(.message(IncomingMessage(topic: topic, text: text, retained: retained)), id: id, at: testStart.addingTimeInterval(seconds))
        }
        func tick(at seconds: Double) -> [Output] {
            id += 1
            return engine.handle(.tick, id: id, at: testStart.addingTimeInterval(seconds))
        }
        _ = send("home/livingroom-node/status", "online", retained: true, at: 0)
        _ = send("home/livingroom-node/temperature", "26.5", at: 1)
        _ = send("home/livingroom-node/temperature", "28.4", at: 2)
        #expect(engine.nextDeadline == testStart.addingTimeInterval(32))
        #expect(tick(at: 32).published == ["home/livingroom-node/led/set on"])
        #expect(send("home/livingroom-node/temperature", "26.8", at: 40).published == ["home/livingroom-node/led/set off"])

        _ = send("zigbee2mqtt/bedroom-sensor/availability", #"{"state":"online"}"#, retained: true, at: 41)
        _ = send("zigbee2mqtt/bedroom-sensor", #"{"temperature":19.2,"humidity":48,"battery":91,"linkquality":120}"#, at: 42)
        let bedroom = try #require(engine.status(ofDevice: "bedroom-sensor"))
        #expect(bedroom.sensors.mapValues(\.value) == ["temperature": .number(19.2), "humidity": .number(48), "battery": .number(91)])
        #expect(send("zigbee2mqtt/bedroom-sensor/availability", #"{"state":"offline"}"#, at: 50).published == [
            "home/alerts Bedroom sensor went offline",
        ])

        _ = send("stat/desk-plug/POWER", "ON", at: 60)
        // Monday 23:00 UTC is 15 hours after the start.
        #expect(tick(at: 15 * 3600).published == ["cmnd/desk-plug/POWER OFF", "home/alerts Desk switched off at 23:00:00"])
    }
}
