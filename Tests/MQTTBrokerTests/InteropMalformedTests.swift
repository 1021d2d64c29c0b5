import TestSupport
import Testing

/// One malformed input: bytes no conforming client sends.
struct InteropMalformedInput: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    /// Whether the bytes follow an accepted CONNECT, or replace it.
    var afterConnect = true

    var testDescription: String { name }

    private static let wire = InteropWire.self

    static let all: [InteropMalformedInput] = [
        .init(name: "PUBLISH to a topic with +", bytes: wire.publish(topic: "interop/+/bad", payload: "x")),
        .init(name: "PUBLISH to a topic with #", bytes: wire.publish(topic: "interop/#", payload: "x")),
        .init(name: "PUBLISH to an empty topic", bytes: wire.publish(topic: "", payload: "x")),
        .init(name: "PUBLISH with QoS 3", bytes: wire.packet(0x36, wire.string("interop/feed") + [0x00, 0x01])),
        .init(name: "QoS 0 PUBLISH with DUP", bytes: wire.publish(topicBytes: Array("interop/feed".utf8), payload: "x", flags: 0x08)),
        .init(name: "QoS 1 PUBLISH with packet id 0", bytes: wire.packet(0x32, wire.string("interop/feed") + [0x00, 0x00])),
        .init(name: "PUBLISH topic with invalid UTF-8", bytes: wire.publish(topicBytes: [0x69, 0xC3, 0x28], payload: "x")),
        .init(name: "PUBLISH topic with U+0000", bytes: wire.publish(topicBytes: [0x69, 0x00, 0x6A], payload: "x")),
        .init(name: "PUBLISH whose fields overrun its length", bytes: [0x32, 0x03, 0x00, 0x05, 0x61]),
        .init(name: "remaining length of 5 bytes", bytes: [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        .init(name: "SUBSCRIBE with flags 0000", bytes: wire.packet(0x80, [0x00, 0x01] + wire.string("interop/x") + [0x01])),
        .init(name: "SUBSCRIBE without a filter", bytes: wire.packet(0x82, [0x00, 0x01])),
        .init(name: "SUBSCRIBE with reserved option bits", bytes: wire.packet(0x82, [0x00, 0x01] + wire.string("interop/x") + [0x05])),
        .init(name: "UNSUBSCRIBE with flags 0000", bytes: wire.packet(0xA0, [0x00, 0x01] + wire.string("interop/x"))),
        .init(name: "PUBREL with flags 0000", bytes: [0x60, 0x02, 0x00, 0x01]),
        .init(name: "PINGREQ with flags 0001", bytes: [0xC1, 0x00]),
        .init(name: "PINGREQ with a body", bytes: [0xC0, 0x01, 0x00]),
        .init(name: "reserved packet type 15", bytes: [0xF0, 0x00]),
        .init(name: "reserved packet type 0", bytes: [0x00, 0x00]),
        .init(name: "a second CONNECT", bytes: wire.connect(clientID: "interop-again", keepAlive: 60)),
        .init(name: "CONNACK from a client", bytes: wire.connackAccepted),
        .init(name: "PINGREQ before CONNECT", bytes: wire.pingreq, afterConnect: false),
        .init(name: "PUBLISH before CONNECT", bytes: wire.publish(topic: "interop/feed", payload: "sneaky"), afterConnect: false),
        .init(
            name: "CONNECT with the reserved flag set",
            bytes: wire.packet(0x10, wire.string("MQTT") + [0x04, 0x03, 0x00, 0x3C] + wire.string("interop-reserved")),
            afterConnect: false),
        .init(
            name: "CONNECT with will QoS but no will",
            bytes: wire.packet(0x10, wire.string("MQTT") + [0x04, 0x0A, 0x00, 0x3C] + wire.string("interop-will-qos")),
            afterConnect: false),
        .init(
            name: "CONNECT with an unknown protocol name",
            bytes: wire.packet(0x10, wire.string("MQTX") + [0x04, 0x02, 0x00, 0x3C] + wire.string("interop-name")),
            afterConnect: false),
        .init(
            name: "CONNECT with a will topic holding #",
            bytes: wire.connect(clientID: "interop-bad-will", keepAlive: 60, will: .init(topic: "interop/#", payload: "x")),
            afterConnect: false),
    ]
}

/// Malformed packets close the connection that sent them, and only that one.
@Suite("Interop: malformed packets", .timeLimit(.minutes(2)))
struct InteropMalformedTests {
    @Test(
        "a malformed packet closes only its connection; a mosquitto_sub connected beside it keeps receiving",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")),
        arguments: InteropMalformedInput.all)
    func malformedPacketClosesOnlyItsConnection(input: InteropMalformedInput) async throws {
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let bystander = try mosquitto.subscribe(["-t", "interop/feed", "-q", "1", "-C", "2"])
            defer { bystander.stop() }
            try await broker.waitForSubscriptions(1)
            let will = try await broker.record("interop/raw/#")
            try await mosquitto.publish(["-t", "interop/feed", "-q", "1", "-m", "before"])

            let culprit: InteropRawClient
            if input.afterConnect {
                culprit = try await InteropRawClient.connected(
                    port: broker.port,
                    InteropWire.connect(
                        clientID: "interop-culprit", keepAlive: 60,
                        will: .init(topic: "interop/raw/will", payload: "broken")))
            } else {
                culprit = try await InteropRawClient.connect(port: broker.port, sending: input.bytes)
            }
            defer { Task { await culprit.close() } }
            if input.afterConnect { try await culprit.send(input.bytes) }

            #expect(await culprit.waitForClose() != nil, "the broker kept the connection open")
            // No answer to the bad packet: only the CONNACK, if there was a CONNECT.
            #expect(culprit.received == (input.afterConnect ? InteropWire.connackAccepted : []))

            try await mosquitto.publish(["-t", "interop/feed", "-q", "1", "-m", "after"])
            // §3.1.2.5: a protocol error is no DISCONNECT, so the will goes out.
            // It went out as the connection closed, before "after" was routed.
            #expect(will.received == (input.afterConnect ? ["interop/raw/will|0|0|broken"] : []))
            #expect(await bystander.interopExit() == 0, "mosquitto_sub: \(bystander.output)")
            #expect(bystander.interopLines == ["interop/feed|1|0|before", "interop/feed|1|0|after"])
            let status = try await broker.broker.status()
            #expect(status.publishReceived == 2)
        }
    }

    @Test("an invalid filter gets SUBACK 0x80 and the connection stays open")
    func invalidFilterIsRefusedNotFatal() async throws {
        try await withInteropBroker { broker in
            let client = try await InteropRawClient.connected(
                port: broker.port, InteropWire.connect(clientID: "interop-filters", keepAlive: 60))
            defer { Task { await client.close() } }
            let filters: [(String, UInt8)] = [("interop/ok", 1), ("interop/#/bad", 1), ("interop/a+", 0), ("interop/+", 2)]
            let body: [UInt8] = [0x00, 0x07] + filters.flatMap { InteropWire.string($0.0) + [$0.1] }
            try await client.send(InteropWire.packet(0x82, body))

            let suback: [UInt8] = [0x90, 0x06, 0x00, 0x07, 0x01, 0x80, 0x80, 0x02]
            #expect(await client.waitForBytes(4 + suback.count) == InteropWire.connackAccepted + suback)

            await broker.broker.publish(.init(topic: "interop/ok", payload: "still here", qos: .atMostOnce))
            let publish = InteropWire.publish(topic: "interop/ok", payload: "still here")
            #expect(await client.waitForBytes(4 + suback.count + publish.count) == InteropWire.connackAccepted + suback + publish)
            #expect(await client.waitForClose(timeout: .milliseconds(100)) == nil)
            #expect(try await broker.broker.status().subscriptions == 2)
        }
    }
}
