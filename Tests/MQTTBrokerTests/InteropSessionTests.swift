import TestSupport
import Testing

/// Sessions seen from paho: persistence with offline queueing, overlapping
/// subscriptions, and takeover by a second connection with the same id.
@Suite("Interop: sessions", .timeLimit(.minutes(2)))
struct InteropSessionTests {
    @Test(
        "a persistent paho session queues QoS 1 messages while away and delivers them in order on return",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_pub")))
    func persistentSessionQueuesWhileAway() async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let id = ["--id", "interop-persistent", "--persistent"]

            let first = try InteropPaho(port: broker.port, id + ["--subscribe", "interop/persist/#:1"])
            defer { first.stop() }
            #expect(await first.exitStatus() == 0, "paho: \(first.events)")
            #expect(first.events == ["CONNACK 0 0", "SUBACK 1", "DISCONNECTED 0", "DONE"])
            try await broker.waitForConnectedClients(0)
            #expect(try await broker.broker.status().clientsTotal == 1)

            // QoS 0 is not queued for an absent client, as in Mosquitto by default;
            // QoS 2 is queued at the granted QoS 1.
            try await mosquitto.publish(topic: "interop/persist/a", payloads: ["q0", "q1", "q2", "q3", "q4"], qos: 1)
            try await mosquitto.publish(["-t", "interop/persist/a", "-q", "0", "-m", "not-queued"])
            try await mosquitto.publish(topic: "interop/persist/b", payloads: ["q5", "q6", "q7"], qos: 2)
            try await mosquitto.publish(topic: "interop/persist/a", payloads: ["q8", "q9"], qos: 1)

            // Back without subscribing again: the session kept the subscription.
            let second = try InteropPaho(port: broker.port, id + ["--expect", "11"])
            defer { second.stop() }
            #expect(await second.waitFor { $0.count(where: { $0.hasPrefix("MESSAGE ") }) == 10 }, "paho: \(second.events)")
            try await mosquitto.publish(["-t", "interop/persist/a", "-q", "1", "-m", "live"])
            #expect(await second.exitStatus() == 0, "paho: \(second.events)")

            #expect(second.events("CONNACK") == ["1 0"])
            let queued = (0...4).map { "interop/persist/a 1 0 0 q\($0)" } + (5...7).map { "interop/persist/b 1 0 0 q\($0)" }
                + (8...9).map { "interop/persist/a 1 0 0 q\($0)" }
            #expect(second.messages == queued + ["interop/persist/a 1 0 0 live"])
        }
    }

    @Test(
        "a clean session discards the persistent one",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_pub")))
    func cleanSessionDiscardsPersistentOne() async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let persistent = try InteropPaho(
                port: broker.port, ["--id", "interop-twice", "--persistent", "--subscribe", "interop/clean:1"])
            defer { persistent.stop() }
            #expect(await persistent.exitStatus() == 0, "paho: \(persistent.events)")
            try await broker.waitForConnectedClients(0)
            try await mosquitto.publish(["-t", "interop/clean", "-q", "1", "-m", "queued"])

            let clean = try InteropPaho(port: broker.port, ["--id", "interop-twice", "--idle", "0.3"])
            defer { clean.stop() }
            #expect(await clean.exitStatus() == 0, "paho: \(clean.events)")
            #expect(clean.events("CONNACK") == ["0 0"])
            #expect(clean.messages == [])

            let again = try InteropPaho(port: broker.port, ["--id", "interop-twice", "--persistent", "--idle", "0.3"])
            defer { again.stop() }
            #expect(await again.exitStatus() == 0, "paho: \(again.events)")
            #expect(again.events("CONNACK") == ["0 0"])
            #expect(again.messages == [])
            let status = try await broker.broker.status()
            #expect(status.subscriptions == 0)
        }
    }

    @Test(
        "overlapping subscriptions a/# (QoS 0) and a/+ (QoS 1) deliver one copy at QoS 1",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_pub")))
    func overlappingSubscriptionsDeliverOneCopy() async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let subscriber = try InteropPaho(port: broker.port, ["--subscribe", "a/#:0", "--subscribe", "a/+:1", "--expect", "13"])
            defer { subscriber.stop() }
            #expect(await subscriber.waitFor("SUBACK"), "paho: \(subscriber.events)")
            #expect(subscriber.events("SUBACK") == ["0,1"])

            let payloads = (0..<10).map { "o\($0)" }
            try await mosquitto.publish(topic: "a/x", payloads: payloads, qos: 1)
            try await mosquitto.publish(["-t", "a/x/y", "-q", "1", "-m", "deep"])
            try await mosquitto.publish(["-t", "a", "-q", "2", "-m", "parent"])
            try await mosquitto.publish(["-t", "a/x", "-q", "1", "-m", "end"])

            #expect(await subscriber.exitStatus() == 0, "paho: \(subscriber.events)")
            let messages = subscriber.messages
            #expect(messages.count == 13)
            // Order is kept per topic; between topics it need not be.
            #expect(messages.filter { $0.hasPrefix("a/x ") } == (payloads + ["end"]).map { "a/x 1 0 0 \($0)" })
            // Only a/# matches these: they arrive at its QoS 0.
            #expect(messages.filter { $0.hasPrefix("a/x/y ") } == ["a/x/y 0 0 0 deep"])
            #expect(messages.filter { $0.hasPrefix("a ") } == ["a 0 0 0 parent"])
        }
    }

    @Test(
        "a second paho client with the same id takes the session over and the first is disconnected",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func sessionTakeover() async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let willWatcher = try mosquitto.subscribe(["-t", "interop/twin/will", "-C", "1"])
            defer { willWatcher.stop() }
            try await broker.waitForSubscriptions(1)

            let original = try InteropPaho(port: broker.port, [
                "--id", "interop-twin", "--will", "interop/twin/will", "taken-over", "0", "0",
                "--subscribe", "interop/twin/inbox:1", "--until-disconnected",
            ])
            defer { original.stop() }
            #expect(await original.waitFor("SUBACK"), "paho: \(original.events)")
            try await broker.waitForConnectedClients(2)

            let usurper = try InteropPaho(port: broker.port, [
                "--id", "interop-twin", "--subscribe", "interop/twin/inbox:1", "--expect", "1",
            ])
            defer { usurper.stop() }
            #expect(await original.exitStatus() == 0, "the first client was not disconnected: \(original.events)")
            #expect(original.events.contains { $0.hasPrefix("DISCONNECTED ") })
            #expect(await usurper.waitFor("SUBACK"), "paho: \(usurper.events)")
            #expect(usurper.events("CONNACK") == ["0 0"])

            try await mosquitto.publish(["-t", "interop/twin/inbox", "-q", "1", "-m", "for-the-new-one"])
            #expect(await usurper.exitStatus() == 0, "paho: \(usurper.events)")
            #expect(usurper.messages == ["interop/twin/inbox 1 0 0 for-the-new-one"])
            #expect(original.messages == [])
            // The first connection ended without DISCONNECT: its will went out.
            #expect(await willWatcher.interopExit() == 0, "mosquitto_sub: \(willWatcher.output)")
            #expect(willWatcher.interopLines == ["interop/twin/will|0|0|taken-over"])
        }
    }
}
