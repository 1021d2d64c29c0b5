import EventLog
import Foundation
import HomeRules
import MQTT
@_spi(Testing) import MQTTClient
import TestSupport
import Testing

/// The daemon with independent peers: a Mosquitto broker in external mode,
/// and an ESP8266-like device written with paho-mqtt.
@Suite("homerules serve with real peers", .timeLimit(.minutes(5)))
struct DaemonPeerTests {
    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func externalBrokerRestartRestoresPresenceThenRetainedMessagesCorrectIt() async throws {
        let mosquitto = try await MosquittoBroker.start()
        let directory = try TemporaryDirectory()
        let device = try await TestDevice.connect(id: "node", port: mosquitto.port, will: TestHome.will)
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules, in: directory, externalPort: mosquitto.port) { first in
            try await device.publish("home/node/status", "online", retain: true)
            try await device.publish("home/node/temperature", "21")
            _ = try await first.waitForEvents { $0.contains { $0.kind == .presence && $0.payload == "online" } }
        }

        // While the daemon is down the device loses power: Mosquitto keeps its will, retained.
        device.client.dropConnection()
        let observer = try await TestDevice.connect(id: "observer", port: mosquitto.port)
        _ = try await observer.waitForMessage(on: "home/node/status") { $0 == "offline" }

        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules, in: directory, externalPort: mosquitto.port) { second in
            let events = try await second.waitForEvents { events in
                events.contains { $0.kind == .presence && $0.payload == "offline" }
            }
            // Restored as online from the saved state, then corrected by the retained will.
            let offline = try #require(events.first { $0.kind == .presence && $0.payload == "offline" })
            #expect(offline.detail?.contains("offline") == true)
            let restart = try #require(events.last { $0.kind == .reload })
            #expect(offline.id > restart.id)
            #expect(events.contains { $0.kind == .ruleFired && $0.rule == "node-lost" })
            #expect(try second.database().devices().first?.sensors.first?.value == "21")
        }
        await observer.disconnect()
    }

    @Test(
        "at MQTT 5 the daemon's session outlives a lost connection: a reading sent meanwhile arrives when it is back",
        .enabled(if: Peers.enabled("mosquitto")))
    func mqtt5SessionBringsBackWhatTheDaemonMissed() async throws {
        let mosquitto = try await MosquittoBroker.start()
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules, externalPort: mosquitto.port) {
            $0.protocolVersion = .v5
            $0.sessionExpiryInterval = 3600
            // Back after 3 s: time for the reading below to be sent while it is away.
            $0.reconnect = .exponentialBackoff(initialDelay: .seconds(3), maximumDelay: .seconds(3), jitter: 0)
        } _: { daemon in
            try await mosquitto.waitForLog("homerules-test-daemon (p5, c1")
            // Another connection takes the daemon's session over and leaves at once: the session waits, unconnected.
            var thief = MQTTClientConfiguration(host: "127.0.0.1", port: mosquitto.port, clientID: "homerules-test-daemon")
            thief.protocolVersion = .v5
            thief.cleanSession = false
            thief.sessionExpiryInterval = 3600
            thief.reconnect = .disabled
            let taker = try MQTTClient(configuration: thief)
            try await taker.connect()
            await taker.disconnect()
            let device = try await TestDevice.connect(id: "node", port: mosquitto.port)
            try await device.client.publish(topic: "home/node/temperature", payload: "23", qos: .atLeastOnce)
            // The daemon resumes its session (Clean Start 0) and gets the reading queued for it.
            try await mosquitto.waitForLog("homerules-test-daemon (p5, c0")
            _ = try await daemon.waitForEvents { events in
                events.contains { $0.kind == .message && $0.topic == "home/node/temperature" && $0.payload == "23" }
            }
            await device.disconnect()
        }
    }

    @Test(.enabled(if: Peers.pahoEnabled))
    func aPahoDeviceIsDrivenByTheRulesAndGoesOfflineWhenItFreezes() async throws {
        let python = try Peers.requirePaho()
        try await DaemonHarness.with(devices: TestHome.devices, rules: TestHome.rules) { harness in
            let script = harness.directory.file("device.py")
            try Self.deviceScript.write(to: script, atomically: true, encoding: .utf8)
            let device = try BackgroundProcess(python, ["-u", script.path, String(harness.port)])
            defer { device.stop() }

            // The sketch sends 25 then 29.5; the rule answers with the LED command, which it echoes.
            #expect(await device.waitForOutput(timeout: 30) { $0.contains("command on") })
            let events = try await harness.waitForEvents { events in
                events.contains { $0.kind == .message && $0.topic == "home/node/led" && $0.payload == "on" }
            }
            let action = try #require(events.first { $0.kind == .action })
            #expect(try harness.database().causeChain(of: action.id).map(\.kind) == [.action, .ruleFired, .message])

            // Frozen (SIGSTOP): no more pings, so the broker gives up after 1.5 × keepalive and publishes the will.
            device.process.send(SIGSTOP)
            let frozenAt = ContinuousClock.now
            _ = try await harness.waitForEvents { $0.contains { $0.kind == .presence && $0.payload == "offline" } }
            // Keepalive 1 s: 1.5 s and the sweep, not a TCP timeout of minutes; generous for a loaded machine.
            #expect(ContinuousClock.now - frozenAt < .seconds(15))
            // The device table is written after the presence event, maybe in the next batch.
            _ = try await harness.waitForDevices { $0.first?.state.presence == "offline" }
            let listing = try await HomeRulesBinary.run(["devices"], in: harness.directory.path)
            #expect(listing.status == 0)
            #expect(listing.stdout.contains("offline since"), "\(listing.stdout)")
            device.process.send(SIGCONT)
        }
    }

    /// The arduino-mqtt sketch of the project's origin, in Python: a will of
    /// "offline" (retained, QoS 1), "online" once connected, readings, and an
    /// LED that obeys commands and reports its state.
    static let deviceScript = """
        import sys, time
        import paho.mqtt.client as mqtt

        port = int(sys.argv[1])
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="node")
        client.will_set("home/node/status", "offline", qos=1, retain=True)

        def on_connect(client, userdata, flags, reason_code, properties):
            client.subscribe("home/node/led/set", qos=1)
            client.publish("home/node/status", "online", qos=1, retain=True)

        def on_message(client, userdata, message):
            state = message.payload.decode()
            print("command", state, flush=True)
            client.publish("home/node/led", state, qos=1, retain=True)

        client.on_connect = on_connect
        client.on_message = on_message
        client.connect("127.0.0.1", port, keepalive=1)
        client.loop_start()
        time.sleep(0.5)
        for reading in ["25", "29.5"]:
            client.publish("home/node/temperature", reading, qos=1)
            time.sleep(0.2)
        while True:
            time.sleep(0.1)
        """
}
