import MQTT
import MQTTBroker
import NIOCore
import Testing

/// An in-process subscriber that falls behind can hold the publishers back
/// through TCP instead of losing their messages.
@Suite("Pausing reads from clients")
struct ReadingPauseTests {
    @Test func messagesWaitWhilePausedAndAllArriveInOrderAfter() async throws {
        try await withBroker { broker, port in
            let received = MessageLog()
            let subscription = try await broker.subscribe([.init(filter: "home/#", qos: .atLeastOnce)]) { received.append($0) }
            let (device, _) = try await RawClient.connected(to: port, clientID: "device")

            broker.setReadingPaused(true)
            for index in 1...200 {
                try await device.send(.publish(PublishPacket(topic: "home/temperature", payload: ByteBuffer(string: "\(index)"))))
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(received.messages.isEmpty)

            broker.setReadingPaused(false)
            #expect(await received.waitForCount(200))
            #expect(received.messages.map(\.payloadString) == (1...200).map(String.init))
            await subscription.cancel()
        }
    }

    @Test func aPauseIsNotHeldAgainstAClientsKeepalive() async throws {
        try await withBroker { broker, port in
            // Keepalive 2 s: silence beyond 3 s would close the connection.
            let (device, _) = try await RawClient.connected(to: port, clientID: "device", keepAlive: 2)
            broker.setReadingPaused(true)
            try await device.send(.pingreq)
            try await Task.sleep(for: .milliseconds(3_500))
            broker.setReadingPaused(false)
            guard case .pingresp = try await device.next() else {
                Issue.record("no PINGRESP after the pause")
                return
            }
        }
    }

    @Test func aConnectionAcceptedDuringAPauseWaitsToo() async throws {
        try await withBroker { broker, port in
            broker.setReadingPaused(true)
            let device = try await RawClient.connect(to: port)
            try await device.send(.connect(ConnectPacket(protocolVersion: .v3_1_1, clientID: "late", cleanSession: true, keepAlive: 60)))
            try await device.expectSilence(for: .milliseconds(300))
            broker.setReadingPaused(false)
            guard case .connack = try await device.next() else {
                Issue.record("no CONNACK after the pause")
                return
            }
        }
    }
}
