import MQTT
import MQTTBroker
import NIOCore
import Testing

@Suite("Will messages", .timeLimit(.minutes(5)))
struct WillTests {
    private let will = Will(topic: "home/node/status", payload: ByteBuffer(string: "offline"), qos: .atLeastOnce, retain: true)

    @Test func publishedWhenTheSocketDropsAndRetained() async throws {
        try await withBroker { broker, port in
            let (watcher, _) = try await RawClient.connected(to: port, clientID: "watcher")
            _ = try await watcher.subscribe("home/+/status", qos: .atLeastOnce)
            let (device, _) = try await RawClient.connected(to: port, clientID: "node", will: will)
            await device.drop()
            let message = try await watcher.nextPublish()
            #expect(message.topic == "home/node/status")
            #expect(message.payload.string == "offline")
            #expect(message.qos == .atLeastOnce)
            #expect(message.retain == false)

            let (late, _) = try await RawClient.connected(to: port, clientID: "late")
            _ = try await late.subscribe("home/node/status")
            let retained = try await late.nextPublish()
            #expect(retained.payload.string == "offline")
            #expect(retained.retain)
        }
    }

    @Test func notPublishedAfterDisconnect() async throws {
        try await withBroker { _, port in
            let (watcher, _) = try await RawClient.connected(to: port, clientID: "watcher")
            _ = try await watcher.subscribe("home/#")
            let (device, _) = try await RawClient.connected(to: port, clientID: "node", will: will)
            try await device.send(.disconnect(DisconnectPacket()))
            #expect(await device.waitForClose())
            try await watcher.expectNothing()
        }
    }

    @Test func publishedOnProtocolError() async throws {
        try await withBroker { _, port in
            let (watcher, _) = try await RawClient.connected(to: port, clientID: "watcher")
            _ = try await watcher.subscribe("home/#")
            let (device, _) = try await RawClient.connected(to: port, clientID: "node", will: will)
            try await device.send(bytes: [0x30, 0x03, 0x00, 0x01, 0x23]) // PUBLISH to "#"
            #expect(await device.waitForClose())
            #expect(try await watcher.nextPublish().payload.string == "offline")
        }
    }

    @Test func publishedWhenKeepAliveExpires() async throws {
        try await withBroker { _, port in
            let (watcher, _) = try await RawClient.connected(to: port, clientID: "watcher")
            _ = try await watcher.subscribe("home/#")
            let start = ContinuousClock.now
            let (device, _) = try await RawClient.connected(to: port, clientID: "node", keepAlive: 1, will: will)
            #expect(try await watcher.nextPublish(timeout: .seconds(30)).payload.string == "offline")
            #expect(ContinuousClock.now - start >= .milliseconds(1400))
            #expect(await device.waitForClose())
        }
    }

    @Test func publishedOnTakeover() async throws {
        try await withBroker { _, port in
            let (watcher, _) = try await RawClient.connected(to: port, clientID: "watcher")
            _ = try await watcher.subscribe("home/#")
            let (first, _) = try await RawClient.connected(to: port, clientID: "node", will: will)
            let (second, _) = try await RawClient.connected(to: port, clientID: "node")
            #expect(await first.waitForClose())
            #expect(!(await second.waitForClose(timeout: .milliseconds(100))))
            #expect(try await watcher.nextPublish().payload.string == "offline")
        }
    }
}
