import Foundation
import MQTT
import MQTTBroker
import NIOCore
import TestSupport
import Testing

/// Password files in both directions with Debian's Mosquitto 2.0.11, and the
/// CONNACK codes it answers, side by side with `ConnectAuthenticator`.
@Suite("Password files and CONNACK codes against the real Mosquitto", .timeLimit(.minutes(5)))
struct AuthPasswordInteropTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test(.enabled(if: Peers.enabled("mosquitto_passwd")))
    func filesMadeByMosquittoPasswdVerify() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        try await AuthPeer.mosquittoPasswd(["-b", "-c", path, "jake", "1234"])
        try await AuthPeer.mosquittoPasswd(["-b", path, "ann", "pässwörd with spaces"])
        try await AuthPeer.mosquittoPasswd(["-b", "-H", "sha512", path, "old", "legacy"])
        try await AuthPeer.mosquittoPasswd(["-b", "-I", "1000", path, "slow", "iterated"])

        let file = try PasswordFile.load(path: path)
        #expect(file.usernames == ["jake", "ann", "old", "slow"])
        #expect(file.hash(for: "jake")?.scheme == .pbkdf2SHA512(iterations: 101))
        #expect(file.hash(for: "old")?.scheme == .sha512)
        #expect(file.hash(for: "slow")?.scheme == .pbkdf2SHA512(iterations: 1000))
        for (user, password) in [("jake", "1234"), ("ann", "pässwörd with spaces"), ("old", "legacy"), ("slow", "iterated")] {
            #expect(file.verify(username: user, password: bytes(password)) == .accepted, "\(user)")
            #expect(file.verify(username: user, password: bytes(password + " ")) == .wrongPassword, "\(user)")
        }
        #expect(file.verify(username: "nobody", password: bytes("1234")) == .unknownUser)
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_passwd")))
    func filesUpgradedByMosquittoPasswdVerify() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        try "jake:1234\nann:two words\n".write(toFile: path, atomically: true, encoding: .utf8)
        try await AuthPeer.mosquittoPasswd(["-U", path])
        let file = try PasswordFile.load(path: path)
        #expect(file.verify(username: "jake", password: bytes("1234")) == .accepted)
        #expect(file.verify(username: "ann", password: bytes("two words")) == .accepted)
        #expect(file.verify(username: "ann", password: bytes("two")) == .wrongPassword)
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_passwd")))
    func mosquittoPasswdEditsFilesWeWrote() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        var file = PasswordFile()
        try file.set(username: "jake", password: bytes("1234"))
        try file.set(username: "ann", password: bytes("5678"))
        try file.write(to: path)
        try await AuthPeer.mosquittoPasswd(["-D", path, "jake"])
        try await AuthPeer.mosquittoPasswd(["-b", path, "bob", "9"])
        let edited = try PasswordFile.load(path: path)
        #expect(edited.usernames == ["ann", "bob"])
        #expect(edited.verify(username: "ann", password: bytes("5678")) == .accepted)
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func mosquittoAcceptsFilesWeWrote() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        var file = PasswordFile()
        try file.set(username: "jake", password: bytes("1234"))
        try file.set(username: "old", password: bytes("legacy"), scheme: .sha512)
        try file.set(username: "slow", password: bytes("iterated"), scheme: .pbkdf2SHA512(iterations: 2000))
        // A 2.1-style entry: Mosquitto 2.0.11 drops it (with a log line) and starts anyway.
        try file.set(.init(username: "new", hash: PasswordHash(password: bytes("long salt"), scheme: PasswordHash.defaultScheme, saltLength: 64)))
        try file.write(to: path)

        let broker = try await MosquittoBroker.start(allowAnonymous: false, passwordFile: path)
        defer { broker.stop() }
        for (user, password) in [("jake", "1234"), ("old", "legacy"), ("slow", "iterated")] {
            #expect(try await AuthPeer.connectReturnCode(port: broker.port, username: user, password: password) == .accepted, "\(user)")
            #expect(try await AuthPeer.connectReturnCode(port: broker.port, username: user, password: "x") == .notAuthorized, "\(user)")
        }
        #expect(try await AuthPeer.connectReturnCode(port: broker.port, username: "new", password: "long salt") == .notAuthorized)
        #expect(broker.process.output.contains("Unable to decode password salt for user new"))
        #expect(try PasswordFile.load(path: path).verify(username: "new", password: bytes("long salt")) == .accepted)
    }

    /// The table behind `AuthenticationFailure`: every combination, asked of
    /// Mosquitto and of `ConnectAuthenticator`, in MQTT 3.1 and 3.1.1.
    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func connackCodesAreMosquittos() async throws {
        let (directory, file) = try jakesPasswordFile()
        let path = directory.file("passwd").path
        let credentials: [(String?, String?)] = [
            (nil, nil), ("jake", "1234"), ("jake", "wrong"), ("jake", nil), ("nobody", "1234"), ("nobody", nil),
        ]
        for allowAnonymous in [false, true] {
            for withFile in [true, false] {
                let broker = try await MosquittoBroker.start(allowAnonymous: allowAnonymous, passwordFile: withFile ? path : nil)
                defer { broker.stop() }
                let authenticator = ConnectAuthenticator(allowAnonymous: allowAnonymous, passwordFile: withFile ? file : nil)
                for (username, password) in credentials {
                    let ours = authenticator.failure(username: username, password: password.map { ByteBuffer(string: $0) })
                    for version in [ProtocolVersion.v3_1, .v3_1_1] {
                        let theirs = try await AuthPeer.connectReturnCode(port: broker.port, username: username, password: password, version: version)
                        #expect(
                            theirs == (ours?.connectReturnCode ?? .accepted),
                            "allow_anonymous \(allowAnonymous), password file \(withFile), \(username ?? "-")/\(password ?? "-"), \(version): ours \(ours.map { "\($0)" } ?? "accepted")")
                    }
                }
                // A password without a user name: no CONNACK at all (our codec refuses such a CONNECT too).
                #expect(try await AuthPeer.closesOnPasswordWithoutUserName(port: broker.port))
            }
        }
    }

    /// MQTT 5 says why in other words (0x86, 0x87...): ours and Mosquitto's,
    /// both brokers running with the same password file, asked alike.
    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func mqtt5ConnackReasonCodesAreMosquittos() async throws {
        let (directory, _) = try jakesPasswordFile()
        let path = directory.file("passwd").path
        let credentials: [(String?, String?)] = [
            (nil, nil), ("jake", "1234"), ("jake", "wrong"), ("jake", nil), ("nobody", "1234"), (nil, "1234"),
        ]
        for allowAnonymous in [false, true] {
            let mosquitto = try await MosquittoBroker.start(allowAnonymous: allowAnonymous, passwordFile: path)
            defer { mosquitto.stop() }
            try await withBroker({
                $0.listeners = [.init(host: "127.0.0.1", port: 0, security: .init(allowAnonymous: allowAnonymous, passwordFile: path))]
            }) { _, port in
                for (username, password) in credentials {
                    let theirs = try await AuthPeer.connectReturnCode(port: mosquitto.port, username: username, password: password, version: .v5)
                    let ours = try await AuthPeer.connectReturnCode(port: port, username: username, password: password, version: .v5)
                    #expect(
                        ours == theirs,
                        "allow_anonymous \(allowAnonymous), \(username ?? "-")/\(password ?? "-"): ours \(String(describing: ours)), Mosquitto's \(String(describing: theirs))")
                }
            }
        }
    }

    /// A password file `passwd` in a new directory, with jake's password 1234.
    private func jakesPasswordFile() throws -> (TemporaryDirectory, PasswordFile) {
        let directory = try TemporaryDirectory()
        var file = PasswordFile()
        try file.set(username: "jake", password: bytes("1234"))
        try file.write(to: directory.file("passwd").path)
        return (directory, file)
    }
}
