import Foundation
import MQTT
import MQTTBroker
import NIOCore
import TestSupport
import Testing

/// A will is a PUBLISH its client leaves behind: it must pass the same
/// checks. Run against the real Mosquitto 2.0.11 and against ours, with the
/// same ACL: the CONNECT is accepted and the forbidden will never published.
@Suite("Wills pass the ACL and the $SYS rule, as on Mosquitto", .timeLimit(.minutes(5)))
struct AuthWillTests {
    /// Anonymous clients may read `lab/#` and `$SYS/#`, and write only under their own client id.
    static let acl = """
        topic read lab/#
        topic read $SYS/#
        pattern readwrite lab/%c/#
        """

    /// The wills that the client `reader` leaves, forbidden, and `writer`'s, allowed.
    static let forbiddenWills = [
        Will(topic: "lab/led/set", payload: ByteBuffer(string: "on"), qos: .atLeastOnce, retain: true),
        Will(topic: "$SYS/broker/version", payload: ByteBuffer(string: "pwned"), qos: .atMostOnce, retain: true),
    ]

    /// Runs the scenario on a broker at `port`: every forbidden will is left
    /// by a connection that the broker then closes (a malformed packet, so
    /// the will is due), and a watcher reading everything sees only the
    /// allowed will before its own marker comes back.
    private func observedWills(port: Int) async throws -> [String] {
        let (watcher, _) = try await RawClient.connected(to: port, clientID: "watcher")
        try await watcher.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: [
            .init(filter: "lab/#", qos: .atLeastOnce), .init(filter: "$SYS/broker/version", qos: .atMostOnce),
        ])))
        var clients = Self.forbiddenWills.enumerated().map { (index, will) in ("reader\(index)", will) }
        clients.append(("writer", Will(topic: "lab/writer/state", payload: ByteBuffer(string: "gone"), qos: .atLeastOnce, retain: false)))
        for (clientID, will) in clients {
            let (client, connack) = try await RawClient.connected(to: port, clientID: clientID, will: will)
            #expect(connack.returnCode == .accepted, "\(clientID)")
            try await client.send(bytes: [0xF0, 0x00])  // reserved packet type: the broker closes, due the will
            #expect(await client.waitForClose(), "\(clientID)")
        }
        try await watcher.send(.publish(PublishPacket(topic: "lab/watcher/marker", payload: ByteBuffer(string: "barrier"))))
        // Retained copies (Mosquitto's $SYS/broker/version) come with RETAIN 1; live ones without.
        let received = try await watcher.publishes(until: { $0.payloadText == "barrier" }).filter { !$0.retain }
        return received.map { "\($0.topic)=\($0.payloadText)" }
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func forbiddenWillsAreNeverPublished() async throws {
        let directory = try TemporaryDirectory()
        let aclPath = directory.file("acl").path
        try Self.acl.write(toFile: aclPath, atomically: true, encoding: .utf8)

        let mosquitto = try await MosquittoBroker.start(allowAnonymous: true, aclFile: aclPath)
        defer { mosquitto.stop() }
        let theirs = try await observedWills(port: mosquitto.port)

        let ours = try await withBroker({
            $0.listeners = [.init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: true, aclFile: aclPath))]
        }) { _, port in
            try await observedWills(port: port)
        }
        #expect(theirs == ["lab/writer/state=gone"])
        #expect(ours == theirs)
    }

    @Test func aWillIsJudgedByTheACLInForceWhenItIsSent() async throws {
        let directory = try TemporaryDirectory()
        let aclPath = directory.file("acl").path
        try "topic readwrite lab/#\n".write(toFile: aclPath, atomically: true, encoding: .utf8)
        try await withBroker({
            $0.listeners = [.init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: true, aclFile: aclPath))]
        }) { broker, port in
            let (watcher, _) = try await RawClient.connected(to: port, clientID: "watcher")
            _ = try await watcher.subscribe("lab/#")
            let will = Will(topic: "lab/led/set", payload: ByteBuffer(string: "on"), qos: .atMostOnce, retain: false)
            let (device, _) = try await RawClient.connected(to: port, clientID: "device", will: will)
            // Allowed when it connected; no longer when it goes.
            try "topic read lab/#\ntopic write lab/marker\n".write(toFile: aclPath, atomically: true, encoding: .utf8)
            try await broker.reloadSecurity()
            try await device.send(bytes: [0xF0, 0x00])
            #expect(await device.waitForClose())
            try await watcher.send(.publish(PublishPacket(topic: "lab/marker", payload: ByteBuffer(string: "barrier"))))
            #expect(try await watcher.publishes(until: { $0.payloadText == "barrier" }).isEmpty)
        }
    }
}
