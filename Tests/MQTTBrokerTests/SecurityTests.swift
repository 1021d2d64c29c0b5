import Foundation
import MQTT
@testable import MQTTBroker
import NIOCore
import TestSupport
import Testing

/// The broker's security as Mosquitto users set it up, proved with the real
/// `mosquitto_pub` and `mosquitto_sub` as clients.
@Suite("Broker security: passwords, ACL, TLS, reload", .timeLimit(.minutes(5)))
struct SecurityTests {
    /// `jake` / `1234`, as in the project's origin document, and `alice` / `secret`.
    private static func passwordFile(in directory: TemporaryDirectory, jake: String = "1234") throws -> String {
        var file = PasswordFile()
        try file.set(username: "jake", password: Array(jake.utf8))
        try file.set(username: "alice", password: Array("secret".utf8))
        let path = directory.file("passwords").path
        try file.write(to: path)
        return path
    }

    private static let acl = """
        # Anonymous clients: nothing. Then per user; patterns for everyone named.
        user jake
        topic readwrite home/#
        topic deny home/secret
        user alice
        topic read home/#
        user admin
        topic read #
        pattern readwrite devices/%u/#
        pattern write clients/%c/status
        """

    /// `withBroker` on these listeners, with every bound port.
    private func withSecureBroker(
        listeners: [BrokerConfiguration.Listener], _ body: (MQTTBroker, [Int]) async throws -> Void
    ) async throws {
        try await withBroker({ $0.listeners = listeners }) { broker, _ in
            try await body(broker, broker.boundAddresses.compactMap(\.port))
        }
    }

    private func publish(port: Int, _ arguments: [String]) async throws -> ProcessResult {
        try await run(try Peers.require("mosquitto_pub"), ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1"] + arguments, timeout: 30)
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_pub", "mosquitto_sub")))
    func theOriginDocumentsTwoListeners() async throws {
        let directory = try TemporaryDirectory()
        let passwords = try Self.passwordFile(in: directory)
        // 1883: anonymous on loopback; 1884: passwords only (per_listener_settings).
        try await withSecureBroker(listeners: [
            .init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: true)),
            .init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: false, passwordFile: passwords)),
        ]) { _, ports in
            #expect(try await publish(port: ports[0], ["-t", "hello", "-m", "world"]).status == 0)
            let anonymous = try await publish(port: ports[1], ["-t", "hello", "-m", "world"])
            #expect(anonymous.status != 0)
            #expect(anonymous.stderr.contains("not authorised"), "\(anonymous.stderr)")
            #expect(try await publish(port: ports[1], ["-t", "hello", "-m", "world", "-u", "jake", "-P", "1234"]).status == 0)
            #expect(try await publish(port: ports[1], ["-t", "hello", "-m", "world", "-u", "jake", "-P", "12345"]).status != 0)
            #expect(try await publish(port: ports[1], ["-t", "hello", "-m", "world", "-u", "nobody", "-P", "1234"]).status != 0)

            // The codes themselves, as Mosquitto 2.0 answers them: 5 for every refusal.
            for connect in [
                ConnectPacket(clientID: "anonymous"),
                ConnectPacket(clientID: "wrong", username: "jake", password: ByteBuffer(string: "nope")),
                ConnectPacket(clientID: "unknown", username: "nobody", password: ByteBuffer(string: "1234")),
            ] {
                let client = try await RawClient.connect(to: ports[1])
                try await client.send(.connect(connect))
                #expect(try await client.next() == .connack(ConnAckPacket(returnCode: .notAuthorized)))
            }
        }
    }

    @Test func anonymousClientsAreRefusedOffLoopbackUnlessAllowed() throws {
        func allowsAnonymous(_ listener: BrokerConfiguration.Listener) throws -> Bool {
            try ListenerPolicy.load(listener).authenticator.allowAnonymous
        }
        #expect(try allowsAnonymous(.init(host: "0.0.0.0", port: 1883)) == false)
        #expect(try allowsAnonymous(.init(host: "127.0.0.1", port: 1883)) == true)
        #expect(try allowsAnonymous(.init(host: "0.0.0.0", port: 1883, security: .init(allowAnonymous: true))) == true)
        let startup = try ListenerPolicy.load(.init(host: "0.0.0.0", port: 1883)).startupNotice
        #expect(startup?.contains("refuses anonymous clients") == true)
    }

    @Test func aclLinesMosquittoReadsOddlyAreAmongTheListenersNotices() throws {
        let directory = try TemporaryDirectory()
        try "topic read\n".write(to: directory.file("acl"), atomically: true, encoding: .utf8)
        let policy = try ListenerPolicy.load(.init(host: "127.0.0.1", port: 1883, security: .init(aclFile: directory.file("acl").path)))
        #expect(policy.notices.count == 1)
        #expect(policy.notices.first?.contains("acl:1:") == true, "\(policy.notices)")
    }

    @Test("at MQTT 5 the ACL's refusals are told: PUBACK and SUBACK 0x87, with a reason string")
    func aclRefusalsAtMQTT5() async throws {
        let directory = try TemporaryDirectory()
        let passwords = try Self.passwordFile(in: directory)
        try Self.acl.write(to: directory.file("acl"), atomically: true, encoding: .utf8)
        try await withSecureBroker(listeners: [
            .init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: false, passwordFile: passwords, aclFile: directory.file("acl").path)),
        ]) { _, ports in
            let alice = try await login(port: ports[0], "alice", "secret", version: .v5)
            try await alice.send(.publish(PublishPacket(topic: "home/door", payload: ByteBuffer(string: "open"), qos: .atLeastOnce, packetID: 1)))
            guard case .puback(let ack) = try await alice.next() else { throw RawClientError.unexpected("no PUBACK") }
            #expect(ack.reasonCode == .notAuthorized && ack.properties.reasonString == "not authorized to publish on \"home/door\"")
            let jake = try await login(port: ports[0], "jake", "1234", version: .v5)
            #expect(try await jake.subscribe("home/secret").map(\.reasonCode) == [.notAuthorized])
            #expect(try await jake.subscribe("$share/g/home/#", packetID: 2).map(\.reasonCode) == [.grantedQoS0])
        }
    }

    @Test func aclFiltersPublishesSubscriptionsAndRetainedMessages() async throws {
        let directory = try TemporaryDirectory()
        let passwords = try Self.passwordFile(in: directory)
        var file = try PasswordFile.load(path: passwords)
        try file.set(username: "admin", password: Array("root".utf8))
        try file.write(to: passwords)
        try Self.acl.write(to: directory.file("acl"), atomically: true, encoding: .utf8)
        try await withSecureBroker(listeners: [
            .init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: false, passwordFile: passwords, aclFile: directory.file("acl").path)),
        ]) { broker, ports in
            await broker.publish(MQTTMessage(topic: "home/secret", payload: "42", retain: true))
            await broker.publish(MQTTMessage(topic: "home/door", payload: "closed", retain: true))

            let jake = try await login(port: ports[0], "jake", "1234")
            // Retained messages are filtered too: jake gets home/door, never home/secret.
            #expect(try await jake.subscribe("home/#", qos: .atLeastOnce) == [SubscribeReturnCode(granted: .atLeastOnce)])
            let retained = try await jake.nextPublish()
            #expect(retained.topic == "home/door" && retained.retain && retained.qos == .atMostOnce)
            #expect(try await jake.subscribe("home/secret", packetID: 2) == [.failure])

            // alice may read home/# but not write it: her publish is acknowledged and dropped.
            let alice = try await login(port: ports[0], "alice", "secret")
            try await alice.send(.publish(PublishPacket(topic: "home/door", payload: ByteBuffer(string: "open"), qos: .atLeastOnce, packetID: 1)))
            #expect(try await alice.next() == .puback(AckPacket(packetID: 1)))
            try await jake.expectNothing()

            // %u and %c patterns: alice writes under devices/alice/ and clients/<her client id>/status only.
            let admin = try await login(port: ports[0], "admin", "root")
            _ = try await admin.subscribe("devices/#")
            _ = try await admin.subscribe("clients/#", packetID: 2)
            for (topic, allowed) in [("devices/alice/temp", true), ("devices/jake/temp", false), ("clients/alice-client/status", true), ("clients/other/status", false)] {
                try await alice.send(.publish(PublishPacket(topic: topic, payload: ByteBuffer(string: "x"))))
                if allowed {
                    #expect(try await admin.nextPublish().topic == topic)
                } else {
                    try await admin.expectNothing(after: [alice])
                }
            }
        }
    }

    private func login(
        port: Int, _ user: String, _ password: String, clientID: String? = nil, version: ProtocolVersion = .v3_1_1
    ) async throws -> RawClient {
        let client = try await RawClient.connect(to: port, version: version)
        try await client.send(.connect(ConnectPacket(
            protocolVersion: version, clientID: clientID ?? "\(user)-client", username: user, password: ByteBuffer(string: password))))
        guard case .connack(let connack) = try await client.next(), connack.returnCode == .accepted else {
            throw RawClientError.unexpected("\(user) was refused")
        }
        return client
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_pub", "mosquitto_sub")))
    func tlsWithTheHomeCertificateAuthority() async throws {
        let certificates = try TLSFixture(clients: ["sensor"])
        try await withSecureBroker(listeners: [
            .init(host: "127.0.0.1", port: 0, tls: certificates.serverFiles(), security: .init(allowAnonymous: true)),
            .init(host: "127.0.0.1", port: 0, tls: certificates.serverFiles(requireCertificate: true), security: .init(allowAnonymous: true)),
        ]) { _, ports in
            let pub = try Peers.require("mosquitto_pub")
            let trusted = try await run(pub, certificates.mosquittoArguments(port: ports[0]) + ["-t", "t", "-m", "over TLS"], timeout: 30)
            #expect(trusted.status == 0, "\(trusted.stderr)")

            let other = try TLSFixture(clients: [])
            let untrusted = try await run(pub, other.mosquittoArguments(port: ports[0]) + ["-t", "t", "-m", "x"], timeout: 30)
            #expect(untrusted.status != 0)

            let withoutCertificate = try await run(pub, certificates.mosquittoArguments(port: ports[1]) + ["-t", "t", "-m", "x"], timeout: 30)
            #expect(withoutCertificate.status != 0)
            let withCertificate = try await run(
                pub, certificates.mosquittoArguments(port: ports[1], client: "sensor") + ["-t", "t", "-m", "x"], timeout: 30)
            #expect(withCertificate.status == 0, "\(withCertificate.stderr)")
            // MQTT 5 on the same listeners, with the same rules.
            let v5 = try await run(
                pub, certificates.mosquittoArguments(port: ports[1], client: "sensor") + ["-V", "mqttv5", "-t", "t", "-m", "x", "-q", "1"],
                timeout: 30)
            #expect(v5.status == 0, "\(v5.stderr)")
            let v5WithoutCertificate = try await run(
                pub, certificates.mosquittoArguments(port: ports[1]) + ["-V", "mqttv5", "-t", "t", "-m", "x"], timeout: 30)
            #expect(v5WithoutCertificate.status != 0)
        }
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_pub", "mosquitto_sub")))
    func theCertificateNameIsTheUserNameForTheACL() async throws {
        let certificates = try TLSFixture(clients: ["sensor", "intruder"])
        let directory = try TemporaryDirectory()
        try "user sensor\ntopic readwrite sensors/#\n".write(to: directory.file("acl"), atomically: true, encoding: .utf8)
        try await withSecureBroker(listeners: [
            .init(
                host: "127.0.0.1", port: 0,
                tls: certificates.serverFiles(requireCertificate: true, useIdentityAsUsername: true),
                security: .init(aclFile: directory.file("acl").path)),
        ]) { _, ports in
            let pub = try Peers.require("mosquitto_pub")
            // Retained, so that it is there to read only if the ACL let "sensor" write it.
            let sensor = try await run(pub, certificates.mosquittoArguments(port: ports[0], client: "sensor") + ["-t", "sensors/a", "-m", "1", "-q", "1", "-r"], timeout: 30)
            #expect(sensor.status == 0, "\(sensor.stderr)")
            let sub = try Peers.require("mosquitto_sub")
            let readBack = try await run(sub, certificates.mosquittoArguments(port: ports[0], client: "sensor") + ["-t", "sensors/#", "-C", "1", "-W", "5"], timeout: 30)
            #expect(readBack.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(readBack.stderr)")
            let denied = try await run(sub, certificates.mosquittoArguments(port: ports[0], client: "intruder") + ["-t", "sensors/#", "-C", "1", "-W", "2"], timeout: 30)
            #expect(denied.stdout.isEmpty)
        }
    }

    @Test func reloadKeepsClientsConnectedAndAppliesTheNewFiles() async throws {
        let directory = try TemporaryDirectory()
        let passwords = try Self.passwordFile(in: directory)
        let aclPath = directory.file("acl").path
        try "user jake\ntopic readwrite home/#\n".write(toFile: aclPath, atomically: true, encoding: .utf8)
        try await withSecureBroker(listeners: [
            .init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: false, passwordFile: passwords, aclFile: aclPath)),
        ]) { broker, ports in
            let jake = try await login(port: ports[0], "jake", "1234")
            _ = try await jake.subscribe("home/#")
            await broker.publish(MQTTMessage(topic: "home/a", payload: "before"))
            #expect(try await jake.nextPublish().payload.string == "before")

            // New password and a narrower ACL, then a reload: jake stays connected.
            _ = try Self.passwordFile(in: directory, jake: "5678")
            try "user jake\ntopic readwrite home/kitchen/#\n".write(toFile: aclPath, atomically: true, encoding: .utf8)
            try await broker.reloadSecurity()
            try await jake.send(.pingreq)
            #expect(try await jake.next() == .pingresp)
            await broker.publish(MQTTMessage(topic: "home/a", payload: "after"))
            await broker.publish(MQTTMessage(topic: "home/kitchen/light", payload: "on"))
            #expect(try await jake.nextPublish().payload.string == "on")
            #expect((try? await login(port: ports[0], "jake", "1234", clientID: "jake-again")) == nil)
            _ = try await login(port: ports[0], "jake", "5678", clientID: "jake-again")

            // A broken ACL is refused with its place, and the one in force stays.
            try "user jake\ntopic sometimes home/#\n".write(toFile: aclPath, atomically: true, encoding: .utf8)
            let refusal = await #expect(throws: (any Error).self) { try await broker.reloadSecurity() }
            #expect(refusal.map { "\($0)" }?.contains("acl:2:") == true, "\(String(describing: refusal))")
            await broker.publish(MQTTMessage(topic: "home/kitchen/light", payload: "off"))
            #expect(try await jake.nextPublish().payload.string == "off")
        }
    }
}
