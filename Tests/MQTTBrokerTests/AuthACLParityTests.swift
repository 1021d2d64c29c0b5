import Foundation
import MQTT
import MQTTBroker
import NIOCore
import TestSupport
import Testing

/// The ACL fixture loaded into the real Mosquitto 2.0.11, probed by every
/// client of the fixture, and compared with what `AccessControlList` says
/// (and with the recording in `ACLFixture.expected`).
@Suite("The ACL against the real Mosquitto", .timeLimit(.minutes(5)))
struct AuthACLParityTests {
    private static let passwords = [("alice", "a"), ("bob", "b"), ("c+x", "c"), ("d/x", "d"), ("hash", "h"), ("root", "r")]

    /// Mosquitto with the fixture's ACL and users, and the folder of its files.
    private func startMosquitto() async throws -> (MosquittoBroker, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        var passwords = PasswordFile()
        for (user, password) in Self.passwords { try passwords.set(username: user, password: Array(password.utf8)) }
        try passwords.write(to: directory.file("passwd").path)
        try ACLFixture.file.write(to: directory.file("acl"), atomically: true, encoding: .utf8)
        let broker = try await MosquittoBroker.start(
            allowAnonymous: true, passwordFile: directory.file("passwd").path, aclFile: directory.file("acl").path)
        return (broker, directory)
    }

    private func connect(_ prober: ACLFixture.Prober, port: Int) async throws -> RawClient {
        let (client, code) = try await AuthPeer.connect(
            port: port, clientID: prober.identity.clientID, username: prober.identity.username, password: prober.password)
        guard code == .accepted else { throw AuthPeerFailure("\(prober.identity) was refused: \(code.map { "\($0)" } ?? "closed")") }
        return client
    }

    private func publish(_ topic: String, _ payload: String, retain: Bool = false) -> Packet {
        .publish(PublishPacket(topic: topic, payload: ByteBuffer(string: payload), retain: retain))
    }

    private let everything = [TopicSubscription(filter: "#", qos: .atMostOnce), TopicSubscription(filter: "$foo/#", qos: .atMostOnce)]

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func publishAndReceiveAsMosquittoDecides() async throws {
        let (broker, directory) = try await startMosquitto()
        defer { broker.stop() }
        let acl = try AccessControlList.load(path: directory.file("acl").path)
        let root = try await connect(ACLFixture.root, port: broker.port)
        try await root.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: everything)))
        _ = try await root.publishes(until: { $0.isSubAck })

        for (index, prober) in ACLFixture.probers.enumerated() {
            let name = prober.identity.clientID
            let client = try await connect(prober, port: broker.port)
            // Mosquitto 2.0 grants every subscription; the ACL filters each message.
            try await client.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: everything)))
            let suback = try await client.next()
            #expect(suback == .suback(SubAckPacket(packetID: 1, returnCodes: [.init(granted: .atMostOnce), .init(granted: .atMostOnce)])))

            for (topic, _) in ACLFixture.expected { try await client.send(publish(topic, "w \(name)")) }
            try await client.send(publish(prober.probeTopic, "w-done \(name)"))
            let written = Set(try await root.publishes(until: { $0.payloadText == "w-done \(name)" }).filter { $0.payloadText == "w \(name)" }.map(\.topic))

            for (topic, _) in ACLFixture.expected { try await root.send(publish(topic, "r \(name)")) }
            try await root.send(publish(prober.probeTopic, "r-done \(name)"))
            let read = Set(try await client.publishes(until: { $0.payloadText == "r-done \(name)" }).filter { $0.payloadText == "r \(name)" }.map(\.topic))
            await client.drop()

            for (topic, recorded) in ACLFixture.expected {
                let mosquitto = (written.contains(topic) ? "w" : "-") + (read.contains(topic) ? "r" : "-")
                let ours = (acl.mayPublish(topic: topic, client: prober.identity) ? "w" : "-")
                    + (acl.mayReceive(topic: topic, client: prober.identity) ? "r" : "-")
                #expect(mosquitto == recorded[index], "Mosquitto for \(prober.identity) on \(topic)")
                #expect(ours == mosquitto, "\(prober.identity) on \(topic)")
            }
        }
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func retainedMessagesAreFilteredOnSubscribe() async throws {
        let (broker, directory) = try await startMosquitto()
        defer { broker.stop() }
        let acl = try AccessControlList.load(path: directory.file("acl").path)
        let root = try await connect(ACLFixture.root, port: broker.port)
        for (topic, _) in ACLFixture.expected { try await root.send(publish(topic, "kept", retain: true)) }
        try await root.send(.pingreq)
        _ = try await root.publishes(until: { $0 == .pingresp })

        for prober in ACLFixture.probers {
            let client = try await connect(prober, port: broker.port)
            try await client.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: everything)))
            try await client.send(.pingreq)
            let delivered = try await client.publishes(until: { $0 == .pingresp }).filter { $0.retain && $0.payloadText == "kept" }
            await client.drop()
            let expected = ACLFixture.expected.map(\.topic).filter { acl.mayReceive(topic: $0, client: prober.identity) }
            #expect(Set(delivered.map(\.topic)) == Set(expected), "\(prober.identity)")
        }
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func aRefusedQoS1PublishIsAcknowledgedAndDropped() async throws {
        let (broker, _) = try await startMosquitto()
        defer { broker.stop() }
        let root = try await connect(ACLFixture.root, port: broker.port)
        _ = try await root.subscribe("#")
        let alice = try await connect(ACLFixture.probers[1], port: broker.port)
        try await alice.send(.publish(PublishPacket(topic: "other", payload: ByteBuffer(string: "denied"), qos: .atLeastOnce, packetID: 7)))
        #expect(try await alice.next() == .puback(AckPacket(packetID: 7)))
        try await alice.send(publish("probe/alice", "after"))
        let received = try await root.publishes(until: { $0.payloadText == "after" })
        #expect(received.allSatisfy { $0.topic != "other" })
    }
}

extension RawClient {
    /// The PUBLISH packets received before the first packet that `isEnd`
    /// accepts (a PUBLISH or not); fails when none comes within 10 s.
    func publishes(until isEnd: (Packet) -> Bool, timeout: Duration = .seconds(30)) async throws -> [PublishPacket] {
        let deadline = ContinuousClock.now + timeout
        var publishes = [PublishPacket]()
        while ContinuousClock.now < deadline {
            let packet = try await next(timeout: deadline - ContinuousClock.now)
            if isEnd(packet) { return publishes }
            if case .publish(let publish) = packet { publishes.append(publish) }
        }
        throw RawClientError.timedOut
    }
}

extension Packet {
    var payloadText: String? {
        if case .publish(let publish) = self { publish.payloadText } else { nil }
    }

    var isSubAck: Bool {
        if case .suback = self { true } else { false }
    }
}

extension PublishPacket {
    var payloadText: String { String(buffer: payload) }
}
