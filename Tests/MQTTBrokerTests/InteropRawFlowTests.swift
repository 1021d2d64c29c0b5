import MQTT
import MQTTBroker
import Testing

/// QoS flows and session rules checked byte for byte with a raw client, where
/// paho and mosquitto hide what went over the wire: retransmission, the
/// inflight window, queue limits, client-id rules.
@Suite("Interop: QoS flows on the wire", .timeLimit(.minutes(2)))
struct InteropRawFlowTests {
    private typealias Wire = InteropWire

    @Test("a QoS 2 PUBLISH resent before PUBREL is acknowledged again but delivered once; the id is free after PUBCOMP")
    func inboundQoS2IsDeliveredOnce() async throws {
        try await withInteropBroker { broker in
            let routed = try await broker.record("interop/once")
            let client = try await InteropRawClient.connected(port: broker.port, Wire.connect(clientID: "interop-q2", keepAlive: 60))
            defer { Task { await client.close() } }

            try await client.send(Wire.publish(topic: "interop/once", payload: "first", qos: 2, id: 7))
            try await client.send(Wire.publish(topic: "interop/once", payload: "first", qos: 2, id: 7, dup: true))
            #expect(await client.waitForPackets(3) == [Wire.connackAccepted, Wire.pubrec(7), Wire.pubrec(7)])
            try await client.send(Wire.pubrel(7))
            #expect(await client.waitForPackets(4).last == Wire.pubcomp(7))

            // The same id after PUBCOMP is a new message.
            try await client.send(Wire.publish(topic: "interop/once", payload: "second", qos: 2, id: 7))
            try await client.send(Wire.pubrel(7))
            #expect(await client.waitForPackets(6).suffix(2) == [Wire.pubrec(7), Wire.pubcomp(7)])
            #expect(routed.received == ["interop/once|2|0|first", "interop/once|2|0|second"])
        }
    }

    @Test("on reconnect a persistent session resends PUBREL, then unacknowledged PUBLISH with DUP and the same id, then what was queued")
    func persistentSessionResendsInOrder() async throws {
        try await withInteropBroker { broker in
            let connect = Wire.connect(clientID: "interop-resend", keepAlive: 60, cleanSession: false)
            let first = try await InteropRawClient.connected(port: broker.port, connect)
            try await first.send(Wire.subscribe(id: 1, [("interop/resend", 2)]))
            #expect(await first.waitForPackets(2).last == Wire.suback(id: 1, [2]))

            for payload in ["m1", "m2", "m3"] {
                await broker.broker.publish(MQTTMessage(topic: "interop/resend", payload: payload, qos: .exactlyOnce))
            }
            let sent = (1...3).map { Wire.publish(topic: "interop/resend", payload: "m\($0)", qos: 2, id: UInt16($0)) }
            #expect(await first.waitForPackets(5).suffix(3) == sent[...])
            // m1 completes; m2 stops after PUBREC; m3 is never acknowledged.
            try await first.send(Wire.pubrec(1))
            #expect(await first.waitForPackets(6).last == Wire.pubrel(1))
            try await first.send(Wire.pubcomp(1))
            try await first.send(Wire.pubrec(2))
            #expect(await first.waitForPackets(7).last == Wire.pubrel(2))
            await first.close()
            try await broker.waitForConnectedClients(0)
            await broker.broker.publish(MQTTMessage(topic: "interop/resend", payload: "m4", qos: .exactlyOnce))

            let second = try await InteropRawClient.connect(port: broker.port, sending: connect)
            defer { Task { await second.close() } }
            #expect(await second.waitForPackets(4) == [
                Wire.connack(sessionPresent: true),
                Wire.pubrel(2),
                Wire.publish(topic: "interop/resend", payload: "m3", qos: 2, id: 3, dup: true),
                Wire.publish(topic: "interop/resend", payload: "m4", qos: 2, id: 4),
            ])
        }
    }

    @Test("no more than max_inflight_messages are unacknowledged at once, and order is kept")
    func inflightWindow() async throws {
        try await withInteropBroker({ $0.maximumInflightMessages = 3 }) { broker in
            let client = try await InteropRawClient.connected(port: broker.port, Wire.connect(clientID: "interop-window", keepAlive: 60))
            defer { Task { await client.close() } }
            try await client.send(Wire.subscribe(id: 1, [("interop/window", 1)]))
            #expect(await client.waitForPackets(2).last == Wire.suback(id: 1, [1]))

            for index in 1...6 {
                await broker.broker.publish(MQTTMessage(topic: "interop/window", payload: "m\(index)", qos: .atLeastOnce))
            }
            let expected = (1...6).map { Wire.publish(topic: "interop/window", payload: "m\($0)", qos: 1, id: UInt16($0)) }
            #expect(await client.waitForPackets(5).dropFirst(2) == expected.prefix(3))
            // A ping round trip as the barrier: a fourth message would come before the PINGRESP.
            try await client.send(Wire.pingreq)
            #expect(await client.waitForPackets(6).last == Wire.pingresp, "more than 3 in flight")
            func publishes(_ count: Int) async -> [[UInt8]] {
                await client.waitForPackets(count + 3).dropFirst(2).filter { $0 != Wire.pingresp }
            }

            // Acknowledged out of order, each PUBACK opens one place.
            try await client.send(Wire.puback(2))
            #expect(await publishes(4) == Array(expected.prefix(4)))
            try await client.send(Wire.puback(1) + Wire.puback(3))
            #expect(await publishes(6) == expected)
        }
    }

    @Test("while a persistent client is away, max_queued_messages are kept and newer ones dropped and counted")
    func queueLimitWhileAway() async throws {
        try await withInteropBroker({ $0.maximumQueuedMessages = 5 }) { broker in
            let connect = Wire.connect(clientID: "interop-queue", keepAlive: 60, cleanSession: false)
            let first = try await InteropRawClient.connected(port: broker.port, connect)
            try await first.send(Wire.subscribe(id: 1, [("interop/queue", 1)]))
            #expect(await first.waitForPackets(2).last == Wire.suback(id: 1, [1]))
            try await first.send(Wire.disconnect)
            try await broker.waitForConnectedClients(0)

            for index in 1...8 {
                await broker.broker.publish(MQTTMessage(topic: "interop/queue", payload: "m\(index)", qos: .atLeastOnce))
            }
            #expect(try await broker.broker.status().droppedMessages == 3)

            let second = try await InteropRawClient.connect(port: broker.port, sending: connect)
            defer { Task { await second.close() } }
            let expected = (1...5).map { Wire.publish(topic: "interop/queue", payload: "m\($0)", qos: 1, id: UInt16($0)) }
            #expect(await second.waitForPackets(6) == [Wire.connack(sessionPresent: true)] + expected)
        }
    }

    @Test("a persistent session taken over resends its unacknowledged message to the new connection")
    func takeoverOfPersistentSession() async throws {
        try await withInteropBroker { broker in
            let connect = Wire.connect(
                clientID: "interop-heir", keepAlive: 60, cleanSession: false,
                will: .init(topic: "interop/heir/will", payload: "replaced"))
            let wills = try await broker.record("interop/heir/will")
            let first = try await InteropRawClient.connected(port: broker.port, connect)
            defer { Task { await first.close() } }
            try await first.send(Wire.subscribe(id: 1, [("interop/heir", 1)]))
            #expect(await first.waitForPackets(2).last == Wire.suback(id: 1, [1]))
            await broker.broker.publish(MQTTMessage(topic: "interop/heir", payload: "unacked", qos: .atLeastOnce))
            #expect(await first.waitForPackets(3).last == Wire.publish(topic: "interop/heir", payload: "unacked", qos: 1, id: 1))

            let second = try await InteropRawClient.connect(port: broker.port, sending: connect)
            defer { Task { await second.close() } }
            #expect(await second.waitForPackets(2) == [
                Wire.connack(sessionPresent: true),
                Wire.publish(topic: "interop/heir", payload: "unacked", qos: 1, id: 1, dup: true),
            ])
            #expect(await first.waitForClose() != nil)
            #expect(wills.received == ["interop/heir/will|0|0|replaced"])
            #expect(try await broker.broker.status().clientsConnected == 1)
        }
    }

    @Test(
        "an empty client id is refused with CONNACK 0x02 without clean session, and in MQTT 3.1",
        arguments: [
            ("3.1.1, persistent", Wire.packet(0x10, Wire.string("MQTT") + [0x04, 0x00, 0x00, 0x3C] + Wire.string(""))),
            ("3.1, clean", Wire.packet(0x10, Wire.string("MQIsdp") + [0x03, 0x02, 0x00, 0x3C] + Wire.string(""))),
        ])
    func emptyClientIDRules(name: String, connect: [UInt8]) async throws {
        try await withInteropBroker { broker in
            let client = try await InteropRawClient.connect(port: broker.port, sending: connect)
            defer { Task { await client.close() } }
            #expect(await client.waitForClose() != nil)
            #expect(client.received == Wire.connack(returnCode: 0x02))
        }
    }

    @Test("an MQTT 3.1 client resuming its session gets CONNACK byte 1 of 0: 3.1 has no session present flag")
    func mqtt31ConnAckHasNoSessionPresentFlag() async throws {
        try await withInteropBroker { broker in
            // MQTT 3.1, persistent session (clean session flag 0), keepalive 60.
            let connect = Wire.packet(0x10, Wire.string("MQIsdp") + [0x03, 0x00, 0x00, 0x3C] + Wire.string("interop-31"))
            let first = try await InteropRawClient.connected(port: broker.port, connect)
            try await first.send(Wire.disconnect)
            #expect(await first.waitForClose() != nil)
            try await broker.waitForConnectedClients(0)

            let second = try await InteropRawClient.connect(port: broker.port, sending: connect)
            defer { Task { await second.close() } }
            // In 3.1 the first byte of CONNACK's variable header is reserved and
            // unused; Mosquitto sends 0 there to 3.1 clients.
            #expect(await second.waitForBytes(4) == Wire.connack(sessionPresent: false))
        }
    }

    @Test("an empty client id with clean session is accepted")
    func emptyClientIDWithCleanSession() async throws {
        try await withInteropBroker { broker in
            let client = try await InteropRawClient.connected(port: broker.port, Wire.connect(clientID: "", keepAlive: 60))
            defer { Task { await client.close() } }
            #expect(try await broker.broker.status().clientsConnected == 1)
        }
    }
}
