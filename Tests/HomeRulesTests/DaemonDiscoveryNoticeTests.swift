import EventLog
import Foundation
import Logging
import Synchronization
import Testing

@Suite("serve notes devices that announce themselves", .timeLimit(.minutes(5)))
struct DaemonDiscoveryNoticeTests {
    /// Defines the Tasmota plug of the fixtures, by its topics.
    static let relayDevice = """
        id: kitchen-relay
        sensors:
          temperature: { topic: tele/tasmota_1C9A3B/SENSOR, type: number, path: AM2301.Temperature }
        actuators:
          relay:
            command_topic: cmnd/tasmota_1C9A3B/POWER
            state_topic: tele/tasmota_1C9A3B/STATE
            state_path: POWER
        """

    @Test func anUndefinedDeviceIsNotedOnceAndItsConfigsAreNotLogged() async throws {
        let log = CapturedLog()
        let harness = try await DaemonHarness.start(
            devices: ["relay.yaml": Self.relayDevice], rules: [:],
            logger: Logger(label: "test.notice") { _ in CapturingLogHandler(log: log) })
        do {
            let device = try await TestDevice.connect(id: "announcer", port: harness.port)
            let esphome = DiscoveryFixtures.esphome.sorted { $0.key < $1.key }
            for (topic, payload) in esphome + DiscoveryFixtures.tasmota.sorted(by: { $0.key < $1.key }) + esphome {
                try await device.publish(topic, payload, retain: true)
            }
            // The daemon handles messages in order: once this one is logged, so are the announcements.
            try await device.publish("tele/tasmota_1C9A3B/STATE", #"{"POWER":"ON"}"#)
            let events = try await harness.waitForEvents { $0.contains { $0.topic == "tele/tasmota_1C9A3B/STATE" } }
            #expect(!events.contains { $0.topic?.hasPrefix("homeassistant/") == true })
            #expect(log.lines.filter { $0.contains("announces itself") } == [
                "device 'livingroom' announces itself (homeassistant/light/livingroom/livingroom_lamp/config) "
                    + "but no devices/ file defines it: run homerules discover",
            ])
            await device.disconnect()
        } catch {
            try? await harness.stop()
            throw error
        }
        try await harness.stop()
    }
}

/// The log lines of notice level and above, for assertions.
final class CapturedLog: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}

struct CapturingLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        log.append(event.message.description)
    }
}
