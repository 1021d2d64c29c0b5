import EventLog
import Foundation
import HomeRules
import Rules
import TestSupport
import Testing

@Suite("serve: presence after a restart", .timeLimit(.minutes(5)))
struct DaemonRestartTests {
    /// The embedded broker keeps retained messages and wills in memory only:
    /// after a restart nothing but the grace period can tell that a device
    /// restored as online is gone.
    @Test func aDeviceNotHeardFromSinceTheRestartGoesOfflineAndItsRuleRuns() async throws {
        let directory = try TemporaryDirectory()
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules, in: directory) { first in
            let device = try await TestDevice.connect(id: "node", port: first.port, will: TestHome.will)
            try await device.publish("home/node/status", "online", retain: true)
            _ = try await first.waitForEvents { $0.contains { $0.kind == .presence && $0.payload == "online" } }
            // A clean disconnect: the broker drops the will, and the daemon still counts the device online.
            await device.disconnect()
        }

        // The daemon stopped with the device online, and the device never comes back.
        try await DaemonHarness.with(
            devices: TestHome.devices, rules: TestHome.rules, in: directory, policy: RestartPolicy(presenceGracePeriod: .seconds(1))
        ) { second in
            let events = try await second.waitForEvents { events in
                events.contains { $0.kind == .action && $0.rule == "node-lost" }
            }
            let offline = try #require(events.first { $0.kind == .presence && $0.payload == "offline" })
            #expect(offline.detail == "not heard from since the restart (grace period 1 s)")
            let restart = try #require(events.last { $0.kind == .reload })
            #expect(offline.id > restart.id)
            #expect(events.contains { $0.kind == .action && $0.payload == "Test node went offline" })
            #expect(try second.database().devices().first?.state.presence == "offline")
        }
    }
}
