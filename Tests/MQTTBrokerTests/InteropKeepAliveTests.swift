import TestSupport
import Testing

/// Keepalive (§3.1.2.10): pings are answered, and silence longer than one
/// and a half periods ends the connection and publishes the will.
@Suite("Interop: keepalive", .timeLimit(.minutes(2)))
struct InteropKeepAliveTests {
    @Test(
        "an idle paho client with keepalive 2 s stays connected for 6 s, its pings answered",
        .enabled(if: Peers.pahoEnabled))
    func idlePahoClientStaysConnected() async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let client = try InteropPaho(port: broker.port, [
                "--keepalive", "2", "--idle", "6.5",
                "--will", "interop/idle/will", "gone", "0", "0",
                "--subscribe", "interop/idle/echo:1", "--publish", "interop/idle/echo", "--qos", "1", "--payload", "after",
                "--expect", "1",
            ])
            defer { client.stop() }
            let will = try await broker.record("interop/idle/will")

            #expect(await client.exitStatus() == 0, "paho: \(client.events)")
            let idle = try #require(client.events("IDLE").first, "paho: \(client.events)").split(separator: " ")
            #expect(idle.first == "1", "paho was disconnected while idle: \(client.events)")
            let (pings, pongs) = (Int(idle[1]) ?? 0, Int(idle[2]) ?? 0)
            // About three pings in 6.5 s; timing on a loaded machine varies, so only bounds.
            #expect(pings >= 2)
            #expect(pongs >= 2)
            #expect(pongs <= pings)
            #expect(client.messages == ["interop/idle/echo 1 0 0 after"])
            #expect(!client.events.contains { $0.hasPrefix("TIMEOUT") })
            #expect(will.received == [])
        }
    }

    @Test("a raw client that pings every 0.5 s with keepalive 3 s stays connected and gets a PINGRESP for each")
    func pingsKeepTheConnectionOpen() async throws {
        try await withInteropBroker { broker in
            let client = try await InteropRawClient.connected(
                port: broker.port, InteropWire.connect(clientID: "interop-pinger", keepAlive: 3),
                pingEvery: .milliseconds(500))
            defer { Task { await client.close() } }

            // Twelve PINGRESPs: at least 6 s of pings, past the 4.5 s of silence allowed.
            let packets = await client.waitForPackets(13, timeout: .seconds(60))
            #expect(client.closedAt == nil, "closed although it pinged")
            #expect(packets.first == InteropWire.connackAccepted)
            #expect(packets.dropFirst().allSatisfy { $0 == InteropWire.pingresp }, "\(packets)")
            #expect(packets.count >= 13, "\(packets)")
            #expect(try await broker.broker.status().clientsConnected == 1)
        }
    }

    @Test("a raw client silent past 1.5 × keepalive 1 s is disconnected and its will published")
    func silentClientIsDisconnected() async throws {
        try await withInteropBroker { broker in
            let will = try await broker.record("interop/silent/#")
            // Taken before CONNECT leaves: the broker's clock cannot start earlier.
            let start = ContinuousClock.now
            let client = try await InteropRawClient.connect(
                port: broker.port,
                sending: InteropWire.connect(
                    clientID: "interop-silent", keepAlive: 1,
                    will: .init(topic: "interop/silent/status", payload: "expired", qos: 1, retain: true)))
            defer { Task { await client.close() } }

            // The close is timed on the connection's event loop, not by this task.
            let closed = try #require(await client.waitForClose(timeout: .seconds(30)), "the broker never closed")
            let silence = closed - start
            #expect(silence > .seconds(1.5), "closed after \(silence)")
            // Late only by the broker's quarter-second sweep, or by a loaded machine.
            #expect(silence < .seconds(10), "closed after \(silence)")
            // Nothing but the CONNACK was sent: no PINGRESP to a ping never sent.
            #expect(client.received == InteropWire.connackAccepted)

            #expect(await interopWait(.seconds(5)) { will.received.count == 1 })
            #expect(will.received == ["interop/silent/status|1|0|expired"])
            let status = try await broker.broker.status()
            #expect(status.clientsConnected == 0)
            #expect(status.retainedMessages == 1)
        }
    }
}
