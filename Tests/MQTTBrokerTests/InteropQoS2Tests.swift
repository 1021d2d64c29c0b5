import TestSupport
import Testing

/// QoS 2 end to end: every message arrives exactly once, in order, whichever
/// independent client publishes and whichever subscribes.
@Suite("Interop: QoS 2 exactly once", .timeLimit(.minutes(3)))
struct InteropQoS2Tests {
    /// The client library at one end of the flow.
    enum Peer: String, CaseIterable, CustomTestStringConvertible {
        case paho
        case mosquitto

        var testDescription: String { rawValue }
    }

    static let count = 200

    @Test(
        "200 QoS 2 messages arrive exactly once each, in order",
        .enabled(if: Peers.pahoEnabled), .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")),
        arguments: Peer.allCases, Peer.allCases)
    func exactlyOnce(publisher: Peer, subscriber: Peer) async throws {
        _ = try Peers.requirePaho()
        try await withInteropBroker { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let payloads = (0..<Self.count).map { "seq-\($0)" }
            // The in-process subscriber counts what the broker routed.
            let routed = try await broker.record("interop/seq")
            // The end marker follows the sequence on the same topic, whose order
            // is kept: a late duplicate would show before it.
            let expected = payloads + ["end"]

            let output: () -> [String]
            let finished: () async -> Int32?
            let stop: () -> Void
            switch subscriber {
            case .paho:
                let paho = try InteropPaho(port: broker.port, ["--subscribe", "interop/seq:2", "--expect", "\(expected.count)"])
                output = { paho.messages }
                finished = { await paho.exitStatus(within: .seconds(60)) }
                stop = paho.stop
            case .mosquitto:
                let sub = try mosquitto.subscribe(["-t", "interop/seq", "-q", "2", "-C", "\(expected.count)"])
                output = { sub.interopLines }
                finished = { await sub.interopExit(within: .seconds(60)) }
                stop = sub.stop
            }
            defer { stop() }
            try await broker.waitForSubscriptions(2)

            switch publisher {
            case .paho:
                let paho = try InteropPaho(port: broker.port, [
                    "--publish", "interop/seq", "--qos", "2", "--count", "\(Self.count)", "--payload", "seq-",
                ])
                defer { paho.stop() }
                #expect(await paho.exitStatus(within: .seconds(60)) == 0, "paho: \(paho.events)")
                #expect(paho.events == ["CONNACK 0 0", "PUBLISHED \(Self.count)", "DISCONNECTED 0", "DONE"])
            case .mosquitto:
                try await mosquitto.publish(topic: "interop/seq", payloads: payloads, qos: 2)
            }
            try await mosquitto.publish(["-t", "interop/seq", "-q", "2", "-m", "end"])

            #expect(await finished() == 0, "subscriber: \(output())")
            let received = output()
            switch subscriber {
            case .paho: #expect(received == expected.map { "interop/seq 2 0 0 \($0)" })
            case .mosquitto: #expect(received == expected.map { "interop/seq|2|0|\($0)" })
            }
            #expect(routed.received == expected.map { "interop/seq|2|0|\($0)" })
            let status = try await broker.broker.status()
            #expect(status.publishReceived == expected.count)
            #expect(status.droppedMessages == 0)
        }
    }
}
