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

    @Test("a raw client that pings within its keepalive stays connected past 1.5 × keepalive and gets PINGRESP")
    func pingsKeepTheConnectionOpen() async throws {
        try await withInteropBroker { broker in
            let client = try await InteropRawClient.connected(
                port: broker.port, InteropWire.connect(clientID: "interop-pinger", keepAlive: 2))
            defer { Task { await client.close() } }

            // 4.5 s in all, well past the 3 s of silence allowed; pings every
            // 0.5 s leave slack for a loaded machine.
            for ping in 1...9 {
                try await Task.sleep(for: .milliseconds(500))
                try await client.send(InteropWire.pingreq)
                let expected = InteropWire.connackAccepted + Array(repeating: InteropWire.pingresp, count: ping).flatMap { $0 }
                #expect(await client.waitForBytes(expected.count) == expected)
            }
            #expect(await client.waitForClose(timeout: .milliseconds(100)) == nil)
            #expect(try await broker.broker.status().clientsConnected == 1)
        }
    }

    @Test("a raw client silent past 1.5 × keepalive 1 s is disconnected and its will published")
    func silentClientIsDisconnected() async throws {
        try await withInteropBroker { broker in
            let will = try await broker.record("interop/silent/#")
            let client = try await InteropRawClient.connected(
                port: broker.port,
                InteropWire.connect(
                    clientID: "interop-silent", keepAlive: 1,
                    will: .init(topic: "interop/silent/status", payload: "expired", qos: 1, retain: true)))
            defer { Task { await client.close() } }
            let connected = ContinuousClock.now

            let closed = try #require(await client.waitForClose(timeout: .seconds(10)), "the broker never closed")
            let silence = closed - connected
            #expect(silence > .seconds(1), "closed after \(silence)")
            #expect(silence < .seconds(3), "closed after \(silence)")
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
