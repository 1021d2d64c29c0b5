import TestSupport
import Testing

/// Retained messages between mosquitto_pub and mosquitto_sub.
@Suite("Interop: retained messages", .timeLimit(.minutes(2)))
struct InteropRetainedTests {
    @Test(
        "a later subscriber gets the last retained message, with the retain flag",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func laterSubscriberGetsTheLastRetainedMessage() async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            try await mosquitto.publish(["-t", "interop/lamp", "-q", "1", "-r", "-m", "on"])
            try await mosquitto.publish(["-t", "interop/lamp", "-q", "1", "-r", "-m", "dimmed"])

            let atQoS1 = try await mosquitto.receive(["-t", "interop/lamp", "-q", "1"], count: 1)
            #expect(atQoS1 == ["interop/lamp|1|1|dimmed"])
            // The subscription's QoS caps the retained message's.
            let atQoS0 = try await mosquitto.receive(["-t", "interop/lamp", "-q", "0"], count: 1)
            #expect(atQoS0 == ["interop/lamp|0|1|dimmed"])
            let atQoS2 = try await mosquitto.receive(["-t", "interop/lamp", "-q", "2"], count: 1)
            #expect(atQoS2 == ["interop/lamp|1|1|dimmed"])
            #expect(try await broker.broker.status().retainedMessages == 1)
        }
    }

    @Test(
        "a retained message published to a subscriber already there arrives with retain 0; -R skips the stale one",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func staleAndFreshRetainedMessages() async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            try await mosquitto.publish(["-t", "interop/lamp", "-r", "-m", "stale"])

            let subscriber = try mosquitto.subscribe(["-t", "interop/lamp", "-R", "-C", "1"])
            defer { subscriber.stop() }
            try await broker.waitForSubscriptions(1)
            try await mosquitto.publish(["-t", "interop/lamp", "-r", "-m", "fresh"])

            #expect(await subscriber.interopExit() == 0, "mosquitto_sub: \(subscriber.output)")
            // §3.3.1-9: a message matching an established subscription goes out with RETAIN 0.
            #expect(subscriber.interopLines == ["interop/lamp|0|0|fresh"])
            // ... and yet it replaced the stored one.
            #expect(try await mosquitto.receive(["-t", "interop/lamp"], count: 1) == ["interop/lamp|0|1|fresh"])
        }
    }

    @Test(
        "an empty retained publish (-n -r) clears the retained message",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func emptyRetainedPublishClears() async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            try await mosquitto.publish(["-t", "interop/lamp", "-q", "1", "-r", "-m", "on"])
            #expect(try await broker.broker.status().retainedMessages == 1)
            try await mosquitto.publish(["-t", "interop/lamp", "-q", "1", "-r", "-n"])
            #expect(try await broker.broker.status().retainedMessages == 0)

            // Had anything been retained, it would arrive before the marker.
            let subscriber = try mosquitto.subscribe(["-t", "interop/lamp", "-C", "1"])
            defer { subscriber.stop() }
            try await broker.waitForSubscriptions(1)
            try await mosquitto.publish(["-t", "interop/lamp", "-m", "marker"])

            #expect(await subscriber.interopExit() == 0, "mosquitto_sub: \(subscriber.output)")
            #expect(subscriber.interopLines == ["interop/lamp|0|0|marker"])
        }
    }

    @Test(
        "a wildcard subscription gets every matching retained message and no other",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")),
        arguments: [
            ("interop/house/#", ["interop/house/kitchen|0|1|k", "interop/house/hall|0|1|h", "interop/house/attic/fan|0|1|f"]),
            ("interop/house/+", ["interop/house/kitchen|0|1|k", "interop/house/hall|0|1|h"]),
            ("interop/+/attic/#", ["interop/house/attic/fan|0|1|f"]),
            ("+/garden", ["/garden|0|1|g", "interop/garden|0|1|o"]),
        ])
    func wildcardGetsAllRetainedMatches(filter: String, expected: [String]) async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let retained = [
                ("interop/house/kitchen", "k"), ("interop/house/hall", "h"), ("interop/house/attic/fan", "f"),
                ("interop/garden", "o"), ("/garden", "g"), ("interop/housekeeping", "x"),
            ]
            for (topic, payload) in retained {
                try await mosquitto.publish(["-t", topic, "-r", "-m", payload])
            }
            #expect(try await broker.broker.status().retainedMessages == retained.count)

            // The marker comes after the retained matches: anything more would show before it.
            let subscriber = try mosquitto.subscribe(["-t", filter, "-t", "interop/marker", "-C", "\(expected.count + 1)"])
            defer { subscriber.stop() }
            try await broker.waitForSubscriptions(2)
            try await mosquitto.publish(["-t", "interop/marker", "-m", "marker"])

            #expect(await subscriber.interopExit() == 0, "mosquitto_sub: \(subscriber.output)")
            let lines = subscriber.interopLines
            #expect(lines.count == expected.count + 1)
            #expect(Set(lines.dropLast()) == Set(expected))
            #expect(lines.last == "interop/marker|0|0|marker")
        }
    }
}
