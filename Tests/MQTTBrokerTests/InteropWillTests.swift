import TestSupport
import Testing

/// Last wills of paho clients, as presence tracking relies on them.
@Suite("Interop: wills", .timeLimit(.minutes(2)))
struct InteropWillTests {
    @Test(
        "a paho client killed with SIGKILL has its will published, and the retained will reaches later subscribers",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_sub")))
    func willOfKilledClient() async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let watcher = try mosquitto.subscribe(["-t", "interop/node/status", "-q", "1", "-C", "2"])
            defer { watcher.stop() }
            try await broker.waitForSubscriptions(1)

            // The device announces itself with a retained birth message, as Tasmota does.
            let device = try InteropPaho(port: broker.port, [
                "--id", "interop-node", "--will", "interop/node/status", "offline", "1", "1",
                "--publish", "interop/node/status", "--payload", "online", "--qos", "1", "--retain",
                "--end", "linger",
            ])
            defer { device.stop() }
            #expect(await device.waitFor("LINGERING"), "paho: \(device.events)")
            #expect(await watcher.interopWaitForLines(1))
            #expect(watcher.interopLines == ["interop/node/status|1|0|online"])

            device.kill()
            #expect(await watcher.interopExit() == 0, "mosquitto_sub: \(watcher.output)")
            #expect(watcher.interopLines == ["interop/node/status|1|0|online", "interop/node/status|1|0|offline"])

            // The will was retained: it replaced the birth message.
            let later = try await mosquitto.receive(["-t", "interop/node/status", "-q", "1"], count: 1)
            #expect(later == ["interop/node/status|1|1|offline"])
        }
    }

    @Test(
        "a paho client whose socket closes without DISCONNECT has its will published to paho and mosquitto_sub",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func willOfClientThatVanishes() async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let watcher = try mosquitto.subscribe(["-t", "interop/node/+", "-q", "2", "-C", "1"])
            defer { watcher.stop() }
            let pahoWatcher = try InteropPaho(port: broker.port, ["--subscribe", "interop/node/+:2", "--expect", "1"])
            defer { pahoWatcher.stop() }
            try await broker.waitForSubscriptions(2)

            let device = try InteropPaho(port: broker.port, [
                "--id", "interop-node", "--will", "interop/node/lost", "gone", "2", "0", "--end", "vanish",
            ])
            defer { device.stop() }
            #expect(await device.exitStatus() == 0, "paho: \(device.events)")
            #expect(device.events.last == "VANISHING")

            #expect(await watcher.interopExit() == 0, "mosquitto_sub: \(watcher.output)")
            #expect(watcher.interopLines == ["interop/node/lost|2|0|gone"])
            #expect(await pahoWatcher.exitStatus() == 0, "paho: \(pahoWatcher.events)")
            #expect(pahoWatcher.messages == ["interop/node/lost 2 0 0 gone"])

            // Not retained: a later subscriber sees the marker first.
            try await broker.waitForConnectedClients(0)
            let later = try mosquitto.subscribe(["-t", "interop/node/+", "-C", "1"])
            defer { later.stop() }
            try await broker.waitForSubscriptions(1)
            try await mosquitto.publish(["-t", "interop/node/marker", "-m", "marker"])
            #expect(await later.interopExit() == 0, "mosquitto_sub: \(later.output)")
            #expect(later.interopLines == ["interop/node/marker|0|0|marker"])
        }
    }

    @Test(
        "a mosquitto_sub killed with SIGKILL has its will published to paho, at its QoS, and retained",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_sub")),
        arguments: ["mqttv31", "mqttv311"])
    func willOfKilledMosquittoSub(version: String) async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let watcher = try InteropPaho(port: broker.port, ["--subscribe", "interop/sub/will:2", "--expect", "1"])
            defer { watcher.stop() }
            #expect(await watcher.waitFor("SUBACK"), "paho: \(watcher.events)")

            let doomed = try mosquitto.subscribe([
                "-t", "interop/elsewhere", "-V", version, "-i", "interop-doomed",
                "--will-topic", "interop/sub/will", "--will-payload", "bye", "--will-qos", "2", "--will-retain",
            ])
            defer { doomed.stop() }
            try await broker.waitForSubscriptions(2)
            doomed.kill9()

            #expect(await watcher.exitStatus() == 0, "paho: \(watcher.events)")
            #expect(watcher.messages == ["interop/sub/will 2 0 0 bye"])
            let later = try await mosquitto.receive(["-t", "interop/sub/will", "-q", "2"], count: 1)
            #expect(later == ["interop/sub/will|2|1|bye"])
        }
    }

    @Test(
        "no will is published after a clean DISCONNECT",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func noWillAfterCleanDisconnect() async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let watcher = try mosquitto.subscribe(["-t", "interop/node/#", "-q", "1", "-C", "1"])
            defer { watcher.stop() }
            try await broker.waitForSubscriptions(1)

            let device = try InteropPaho(port: broker.port, [
                "--id", "interop-node", "--will", "interop/node/status", "offline", "1", "1", "--end", "disconnect",
            ])
            defer { device.stop() }
            #expect(await device.exitStatus() == 0, "paho: \(device.events)")
            #expect(device.events == ["CONNACK 0 0", "DISCONNECTED 0", "DONE"])
            // Once the broker has seen the DISCONNECT, a will would already be out.
            try await broker.waitForConnectedClients(1)
            try await mosquitto.publish(["-t", "interop/node/marker", "-q", "1", "-m", "marker"])

            #expect(await watcher.interopExit() == 0, "mosquitto_sub: \(watcher.output)")
            #expect(watcher.interopLines == ["interop/node/marker|1|0|marker"])
            #expect(try await broker.broker.status().retainedMessages == 0)
        }
    }
}
