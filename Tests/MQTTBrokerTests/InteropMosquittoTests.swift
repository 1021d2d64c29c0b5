import Foundation
import MQTTBroker
import TestSupport
import Testing

/// mosquitto_pub → our broker → mosquitto_sub, for every QoS and the three
/// protocol versions.
@Suite("Interop: mosquitto_pub and mosquitto_sub", .timeLimit(.minutes(2)))
struct InteropMosquittoTests {
    @Test(
        "messages arrive once each, in order, at the QoS they were sent with",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")),
        arguments: [0, 1, 2], ["mqttv31", "mqttv311", "mqttv5"])
    func deliveryAtEachQoS(qos: Int, version: String) async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let count = 20
            let subscriber = try mosquitto.subscribe(
                ["-t", "interop/qos", "-q", "\(qos)", "-V", version, "-C", "\(count)"])
            defer { subscriber.stop() }
            try await broker.waitForSubscriptions(1)

            let payloads = (0..<count).map { "m\($0)" }
            try await mosquitto.publish(topic: "interop/qos", payloads: payloads, qos: qos, extra: ["-V", version])

            let status = await subscriber.interopExit()
            #expect(status == 0, "mosquitto_sub: \(subscriber.output)")
            #expect(subscriber.interopLines == payloads.map { "interop/qos|\(qos)|0|\($0)" })
        }
    }

    @Test(
        "a message is delivered at the lower of the published and the subscribed QoS",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")),
        arguments: [(published: 2, subscribed: 1), (2, 0), (1, 0), (0, 2), (1, 2)])
    func deliveryAtTheLowerQoS(published: Int, subscribed: Int) async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let subscriber = try mosquitto.subscribe(["-t", "interop/downgrade", "-q", "\(subscribed)", "-C", "3"])
            defer { subscriber.stop() }
            try await broker.waitForSubscriptions(1)

            try await mosquitto.publish(topic: "interop/downgrade", payloads: ["a", "b", "c"], qos: published)

            #expect(await subscriber.interopExit() == 0, "mosquitto_sub: \(subscriber.output)")
            let expected = min(published, subscribed)
            #expect(subscriber.interopLines == ["a", "b", "c"].map { "interop/downgrade|\(expected)|0|\($0)" })
        }
    }

    @Test(
        "publishers on separate connections reach every matching subscriber",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func fanOutToSeveralSubscribers() async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let exact = try mosquitto.subscribe(["-t", "interop/room/kitchen", "-q", "1", "-C", "2"])
            defer { exact.stop() }
            let wildcard = try mosquitto.subscribe(["-t", "interop/room/+", "-q", "1", "-C", "3"])
            defer { wildcard.stop() }
            try await broker.waitForSubscriptions(2)

            try await mosquitto.publish(["-t", "interop/room/kitchen", "-q", "1", "-m", "21.5"])
            try await mosquitto.publish(["-t", "interop/room/hall", "-q", "1", "-m", "19.0"])
            try await mosquitto.publish(["-t", "interop/room/kitchen", "-q", "1", "-m", "22.0"])

            #expect(await exact.interopExit() == 0, "mosquitto_sub: \(exact.output)")
            #expect(await wildcard.interopExit() == 0, "mosquitto_sub: \(wildcard.output)")
            #expect(exact.interopLines == ["interop/room/kitchen|1|0|21.5", "interop/room/kitchen|1|0|22.0"])
            #expect(wildcard.interopLines == [
                "interop/room/kitchen|1|0|21.5", "interop/room/hall|1|0|19.0", "interop/room/kitchen|1|0|22.0",
            ])
        }
    }
}

/// MQTT 5 between mosquitto_pub and mosquitto_sub (libmosquitto's v5),
/// through our broker: what the publisher set arrives as it was set.
@Suite("Interop: MQTT 5 with mosquitto_pub and mosquitto_sub", .timeLimit(.minutes(2)))
struct InteropMosquittoV5Tests {
    @Test(
        "properties, subscription identifiers and shared subscriptions reach libmosquitto's v5 clients",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func propertiesAndSharedSubscriptions() async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let format = "%t|%q|%P|%C|%R|%D|%F|%S|%E|%p"
            let plain = try mosquitto.subscribe(
                ["-V", "mqttv5", "-t", "v5/#", "-q", "1", "-C", "3", "-D", "subscribe", "subscription-identifier", "42"],
                format: format)
            defer { plain.stop() }
            let workers = try (0..<2).map { _ in
                try mosquitto.subscribe(["-V", "mqttv5", "-t", "$share/workers/v5/job", "-q", "1", "-C", "1"], format: "%p")
            }
            defer { for worker in workers { worker.stop() } }
            try await broker.waitForSubscriptions(3)

            try await mosquitto.publish([
                "-V", "mqttv5", "-t", "v5/lamp", "-q", "1", "-m", "on",
                "-D", "publish", "user-property", "room", "hall", "-D", "publish", "user-property", "by", "rule",
                "-D", "publish", "content-type", "text/plain", "-D", "publish", "response-topic", "v5/answers",
                "-D", "publish", "correlation-data", "c-17", "-D", "publish", "payload-format-indicator", "1",
                "-D", "publish", "message-expiry-interval", "3600",
            ])
            for job in ["job 1", "job 2"] {
                try await mosquitto.publish(["-V", "mqttv5", "-t", "v5/job", "-q", "1", "-m", job])
            }

            #expect(await plain.interopExit() == 0, "mosquitto_sub: \(plain.output)")
            let lines = plain.interopLines
            try #require(lines.count == 3, "\(lines)")
            #expect(lines[0].hasPrefix("v5/lamp|1|room:hall by:rule|text/plain|v5/answers|c-17|1|42|"), "\(lines[0])")
            #expect(lines[0].hasSuffix("|on"))
            let expiry = Int(lines[0].split(separator: "|")[8]) ?? 0
            #expect((3590...3600).contains(expiry))
            #expect(lines[1...].map { $0.hasSuffix("|job 1") || $0.hasSuffix("|job 2") } == [true, true])
            // One job to each worker of the group.
            for worker in workers { #expect(await worker.interopExit() == 0, "worker: \(worker.output)") }
            #expect(Set(workers.flatMap(\.interopLines)) == ["job 1", "job 2"])
        }
    }
}

/// `$SYS/broker/...` read with mosquitto_sub, as dashboards made for
/// Mosquitto read it.
@Suite("Interop: $SYS topics", .timeLimit(.minutes(2)))
struct InteropSystemTopicsTests {
    private static func refreshEvery200ms(_ configuration: inout BrokerConfiguration) {
        configuration.systemTopicInterval = .milliseconds(200)
    }

    @Test(
        "$SYS/broker/version and uptime are retained and readable",
        .enabled(if: Peers.enabled("mosquitto_sub")))
    func versionAndUptime() async throws {
        try await withInteropBroker(Self.refreshEvery200ms) { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let version = try await mosquitto.receive(["-t", "$SYS/broker/version"], count: 1)
            let uptime = try await mosquitto.receive(["-t", "$SYS/broker/uptime"], count: 1)

            #expect(version.count == 1)
            #expect(version.first?.hasPrefix("$SYS/broker/version|0|1|homerules version ") == true, "\(version)")
            #expect(uptime.count == 1)
            #expect(uptime.first?.wholeMatch(of: /\$SYS\/broker\/uptime\|0\|1\|\d+ seconds/) != nil, "\(uptime)")
        }
    }

    @Test(
        "$SYS/broker/clients/connected counts the connected clients",
        .enabled(if: Peers.enabled("mosquitto_sub")))
    func connectedClients() async throws {
        try await withInteropBroker(Self.refreshEvery200ms) { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let bystander = try mosquitto.subscribe(["-t", "interop/nothing"])
            defer { bystander.stop() }
            try await broker.waitForConnectedClients(1)

            // -R skips the retained value, which may predate this client: the
            // first fresh one counts the bystander and the reader itself.
            let connected = try await mosquitto.receive(["-t", "$SYS/broker/clients/connected", "-R"], count: 1)
            #expect(connected == ["$SYS/broker/clients/connected|0|0|2"])
        }
    }

    @Test(
        "a client cannot publish on $SYS: acknowledged, as Mosquitto does, but neither routed nor retained",
        .enabled(if: Peers.enabled("mosquitto_pub")))
    func clientsCannotPublishOnSystemTopics() async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let system = try await broker.record("$SYS/#")
            let marker = try await broker.record("interop/marker")

            try await mosquitto.publish(["-t", "$SYS/broker/version", "-q", "1", "-r", "-m", "spoofed"])
            try await mosquitto.publish(["-t", "$SYS/broker/clients/connected", "-q", "0", "-m", "999"])
            try await mosquitto.publish(["-t", "interop/marker", "-q", "1", "-m", "marker"])

            #expect(await interopWait { marker.received.count == 1 })
            #expect(system.received == [])
            #expect(try await broker.broker.status().retainedMessages == 0)
        }
    }

    @Test(
        "a leading wildcard does not match $SYS topics",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func wildcardsSkipSystemTopics() async throws {
        try await withInteropBroker(Self.refreshEvery200ms) { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            #expect(try await interopWait { try await broker.broker.status().retainedMessages > 0 })
            let subscriber = try mosquitto.subscribe(["-t", "#", "-t", "+/broker/uptime", "-C", "1"])
            defer { subscriber.stop() }
            try await broker.waitForSubscriptions(2)
            // Several refreshes of $SYS go by before the marker: counted, not waited for.
            let refreshes = MessageLog()
            let uptime = try await broker.broker.subscribe([.init(filter: "$SYS/broker/uptime", qos: .atMostOnce)]) { refreshes.append($0) }
            #expect(await refreshes.waitForCount(4, timeout: .seconds(20)))
            await uptime.cancel()
            try await mosquitto.publish(["-t", "interop/marker", "-m", "marker"])

            #expect(await subscriber.interopExit() == 0, "mosquitto_sub: \(subscriber.output)")
            #expect(subscriber.interopLines == ["interop/marker|0|0|marker"])
        }
    }
}

/// The MQTT 5 conformance script (Tests/Conformance/mqtt5.py): 27
/// interoperability tests written with paho-mqtt and a raw socket client of
/// its own, independent of our codec, run against our broker.
@Suite("Interop: the MQTT 5 conformance script", .timeLimit(.minutes(3)))
struct InteropConformanceTests {
    @Test("all 27 tests of the MQTT 5 conformance script pass", .enabled(if: Peers.pahoEnabled))
    func conformanceScriptPasses() async throws {
        let python = try Peers.requirePaho()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Conformance/mqtt5.py").path
        try await withInteropBroker { broker in
            let result = try await run(python, [script, "--port", "\(broker.port)"], timeout: 150)
            let failures = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("PASS") }
            #expect(result.status == 0, "\(failures.joined(separator: "\n"))\(result.stderr)")
            #expect(result.stdout.contains("SUMMARY 27/27"))
        }
    }
}
