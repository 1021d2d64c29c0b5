import Foundation
import MQTTBroker
import TestSupport
import Testing

/// The library behind `homerules certs`: what it writes, with which
/// permissions, what it keeps, and what OpenSSL makes of it.
@Suite(.timeLimit(.minutes(5))) struct TLSHomeCertificatesTests {
    private func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    private func contents(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func keysArePrivateAndAMadeDirectoryIsTheOwnersAlone() throws {
        let parent = try TemporaryDirectory()
        let directory = parent.file("home/certs").path
        let outcome = try HomeCertificates(directory: directory, serverNames: .loopback, clientNames: ["sensor"]).run()

        #expect(try mode(directory) == 0o700)
        for key in [outcome.authority.keyPath, outcome.server.keyPath, directory + "/sensor.key"] {
            #expect(try mode(key) == 0o600, "\(key)")
            #expect(try contents(key).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        }
        for certificate in [outcome.authority.certificatePath, outcome.server.certificatePath, directory + "/sensor.crt"] {
            #expect(try mode(certificate) == 0o644, "\(certificate)")
            #expect(try contents(certificate).hasPrefix("-----BEGIN CERTIFICATE-----"))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["ca.crt", "ca.key", "sensor.crt", "sensor.key", "server.crt", "server.key"])
    }

    @Test func anExistingDirectoryKeepsItsMode() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: directory.path)
        _ = try HomeCertificates(directory: directory.path, serverNames: .loopback).run()
        #expect(try mode(directory.path) == 0o750)
    }

    @Test func theServerCertificateNamesWhatWasAskedAndTheLoopback() throws {
        let directory = try TemporaryDirectory()
        let names = try ServerNames(hostNames: ["broker.home", "raspberrypi.local"], ipAddresses: ["192.168.1.20", "FD00:0:0::20"])
        let outcome = try HomeCertificates(directory: directory.path, serverNames: names).run()
        #expect(outcome.server.subjectAlternativeNames == [
            "localhost", "broker.home", "raspberrypi.local", "127.0.0.1", "::1", "192.168.1.20", "fd00::20",
        ])
        #expect(outcome.server.commonName == "broker.home")
    }

    @Test func thisMachinesNamesIncludeTheLoopbackAndItsHostName() throws {
        let names = ServerNames.thisMachine()
        #expect(names.hostNames.first == "localhost")
        #expect(names.ipAddresses.starts(with: ["127.0.0.1", "::1"]))
        let host = ProcessInfo.processInfo.hostName
        #expect(names.hostNames.contains { host.hasPrefix($0) || $0.hasPrefix(host) })
        #expect(!names.ipAddresses.contains { $0.lowercased().hasPrefix("fe80:") })
    }

    @Test func badNamesAreRefused() throws {
        #expect(throws: HomeCertificateError.invalidHostName("bad_host!")) {
            try ServerNames(hostNames: ["bad_host!"], ipAddresses: [])
        }
        #expect(throws: HomeCertificateError.invalidIPAddress("192.168.1.300")) {
            try ServerNames(hostNames: [], ipAddresses: ["192.168.1.300"])
        }
        let directory = try TemporaryDirectory()
        for name in ["", "../escape", "ca", "Server", ".hidden", "name with space", String(repeating: "x", count: 65)] {
            #expect(throws: HomeCertificateError.self, "\(name)") {
                try HomeCertificates(directory: directory.path, serverNames: .loopback, clientNames: [name]).run()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "nothing written")
    }

    @Test func aSecondRunKeepsTheAuthorityAndTheServerAndAddsAClient() throws {
        let directory = try TemporaryDirectory()
        let first = try HomeCertificates(directory: directory.path, serverNames: .loopback).run()
        let authority = try contents(first.authority.certificatePath), server = try contents(first.server.certificatePath)

        let second = try HomeCertificates(directory: directory.path, clientNames: ["kitchen-node"]).run()
        #expect(!second.authorityIsNew && !second.serverIsNew)
        #expect(second.clients.map(\.isNew) == [true])
        #expect(second.clients.map(\.certificate.commonName) == ["kitchen-node"])
        #expect(try contents(first.authority.certificatePath) == authority)
        #expect(try contents(first.server.certificatePath) == server)

        let third = try HomeCertificates(directory: directory.path, clientNames: ["kitchen-node"]).run()
        #expect(third.clients.map(\.isNew) == [false])
    }

    @Test func renewIssuesTheServerAgainUnderTheSameAuthority() throws {
        let directory = try TemporaryDirectory()
        let first = try HomeCertificates(directory: directory.path, serverNames: .loopback).run()
        let authority = try contents(first.authority.certificatePath), serverKey = try contents(first.server.keyPath)

        let names = try ServerNames(hostNames: ["broker.home"], ipAddresses: [])
        #expect(throws: HomeCertificateError.serverCertificateExists(path: first.server.certificatePath)) {
            try HomeCertificates(directory: directory.path, serverNames: names).run()
        }
        let renewed = try HomeCertificates(directory: directory.path, serverNames: names, renew: true).run()
        #expect(renewed.serverIsNew && !renewed.authorityIsNew)
        #expect(renewed.server.subjectAlternativeNames.contains("broker.home"))
        #expect(try contents(first.authority.certificatePath) == authority)
        #expect(try contents(first.server.keyPath) != serverKey)
        #expect(try mode(first.server.keyPath) == 0o600)
    }

    @Test func certificatesOfAnotherAuthorityOrHalfAnAuthorityAreNotSilentlyUsed() throws {
        let directory = try TemporaryDirectory(), other = try TemporaryDirectory()
        _ = try HomeCertificates(directory: directory.path, serverNames: .loopback).run()
        _ = try HomeCertificates(directory: other.path, serverNames: .loopback).run()
        let server = directory.file("server.crt").path
        try FileManager.default.removeItem(atPath: server)
        try FileManager.default.copyItem(atPath: other.file("server.crt").path, toPath: server)
        try FileManager.default.removeItem(atPath: directory.file("server.key").path)
        try FileManager.default.copyItem(atPath: other.file("server.key").path, toPath: directory.file("server.key").path)
        #expect(throws: HomeCertificateError.notIssuedByAuthority(path: server, authority: directory.file("ca.crt").path)) {
            try HomeCertificates(directory: directory.path).run()
        }

        try FileManager.default.removeItem(atPath: directory.file("ca.key").path)
        #expect(throws: HomeCertificateError.incompleteAuthority(
            present: directory.file("ca.crt").path, missing: directory.file("ca.key").path)) {
            try HomeCertificates(directory: directory.path).run()
        }

        // With the authority gone, a new one would not have signed what is left.
        try FileManager.default.removeItem(atPath: directory.file("ca.crt").path)
        #expect(throws: HomeCertificateError.notIssuedByAuthority(path: server, authority: directory.file("ca.crt").path)) {
            try HomeCertificates(directory: directory.path).run()
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("ca.crt").path))
    }

    @Test(.enabled(if: Peers.enabled("openssl")))
    func openSSLVerifiesTheChainAndSeesTheNamesAndUsages() async throws {
        let openssl = try Peers.require("openssl")
        let directory = try TemporaryDirectory()
        let names = try ServerNames(hostNames: ["broker.home"], ipAddresses: ["10.0.0.7"])
        let outcome = try HomeCertificates(directory: directory.path, serverNames: names, clientNames: ["sensor"]).run()
        let ca = outcome.authority.certificatePath

        for (certificate, purpose) in [(outcome.server.certificatePath, "sslserver"), (directory.file("sensor.crt").path, "sslclient")] {
            let verified = try await run(openssl, ["verify", "-CAfile", ca, "-purpose", purpose, certificate])
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        }
        let hostCheck = try await run(openssl, ["verify", "-CAfile", ca, "-verify_hostname", "broker.home", outcome.server.certificatePath])
        #expect(hostCheck.status == 0, "\(hostCheck.stderr)")
        let ipCheck = try await run(openssl, ["verify", "-CAfile", ca, "-verify_ip", "10.0.0.7", outcome.server.certificatePath])
        #expect(ipCheck.status == 0, "\(ipCheck.stderr)")
        let wrongHost = try await run(openssl, ["verify", "-CAfile", ca, "-verify_hostname", "elsewhere.home", outcome.server.certificatePath])
        #expect(wrongHost.status != 0)

        let text = try await run(openssl, ["x509", "-in", outcome.server.certificatePath, "-noout", "-text"])
        #expect(text.stdout.contains("DNS:localhost, DNS:broker.home, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.0.0.7"))
        #expect(text.stdout.contains("ecdsa-with-SHA256"))
        #expect(text.stdout.contains("prime256v1"))
        let client = try await run(openssl, ["x509", "-in", directory.file("sensor.crt").path, "-noout", "-subject"])
        #expect(client.stdout.contains("CN = sensor"))
        let authority = try await run(openssl, ["x509", "-in", ca, "-noout", "-text"])
        #expect(authority.stdout.contains("CA:TRUE"))
    }

    /// The origin document's authority, made with openssl (RSA), is reused
    /// as it is; one whose key has a passphrase is explained, not used.
    @Test(.enabled(if: Peers.enabled("openssl")))
    func anAuthorityMadeWithOpenSSLIsReused() async throws {
        let openssl = try Peers.require("openssl")
        let directory = try TemporaryDirectory()
        let ca = directory.file("ca.crt").path, key = directory.file("ca.key").path
        let made = try await run(openssl, [
            "req", "-new", "-x509", "-days", "365", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", ca,
            "-subj", "/CN=origin-document-ca", "-addext", "basicConstraints=critical,CA:TRUE",
        ])
        try #require(made.status == 0, "\(made.stderr)")

        let outcome = try HomeCertificates(directory: directory.path, serverNames: .loopback, clientNames: ["jake"]).run()
        #expect(!outcome.authorityIsNew)
        #expect(outcome.authority.commonName == "origin-document-ca")
        for certificate in [outcome.server.certificatePath, directory.file("jake.crt").path] {
            let verified = try await run(openssl, ["verify", "-CAfile", ca, certificate])
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        }

        let encrypted = try await run(openssl, ["pkey", "-in", key, "-out", key + ".enc", "-aes256", "-passout", "pass:1234"])
        try #require(encrypted.status == 0, "\(encrypted.stderr)")
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.moveItem(atPath: key + ".enc", toPath: key)
        #expect(throws: HomeCertificateError.unusableFile(path: key, problem: .encryptedKey)) {
            try HomeCertificates(directory: directory.path, clientNames: ["jake2"]).run()
        }
    }

    @Test func clientCertificatesCarryTheirNameAsCommonNameAndNoOtherName() throws {
        let fixture = try TLSFixture(clients: ["kitchen-node", "jake@home"])
        #expect(fixture.outcome.clients.map(\.certificate.commonName) == ["kitchen-node", "jake@home"])
        #expect(fixture.outcome.clients.allSatisfy { $0.certificate.subjectAlternativeNames.isEmpty })
    }
}
