import Foundation
import HomeRules
import TestSupport
import Testing

@Suite("homerules certs", .timeLimit(.minutes(5)))
struct CertsCommandTests {
    private func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func makesTheAuthorityTheServerAndClientsAndPrintsHowToUseThem() async throws {
        let parent = try TemporaryDirectory()
        let result = try await HomeRulesBinary.run(
            ["certs", "certs", "--host", "broker.home", "--ip", "192.168.1.20", "--client", "sensor", "--client", "jake"],
            in: parent.path)
        #expect(result.status == 0, "\(result.stderr)")
        let directory = parent.file("certs").standardizedFileURL.path

        #expect(try mode(directory) == 0o700)
        for file in ["ca.key", "server.key", "sensor.key", "jake.key"] {
            #expect(try mode(directory + "/" + file) == 0o600, "\(file)")
        }
        for file in ["ca.crt", "server.crt", "sensor.crt", "jake.crt"] {
            #expect(try mode(directory + "/" + file) == 0o644, "\(file)")
        }

        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("made certificate authority \"HomeRules home CA broker.home ") })
        #expect(lines.contains { $0.hasPrefix("made server certificate for localhost, broker.home, 127.0.0.1, ::1, 192.168.1.20, valid until ") })
        #expect(lines.contains { $0.hasPrefix("made client certificate \"sensor\"") })
        #expect(lines.contains { $0.hasPrefix("made client certificate \"jake\"") })
        for expected in [
            "      cafile: \(directory)/ca.crt", "      certfile: \(directory)/server.crt",
            "      keyfile: \(directory)/server.key", "      require_certificate: true", "      use_identity_as_username: true",
            "  listener 8883", "  cafile \(directory)/ca.crt", "  certfile \(directory)/server.crt",
            "  keyfile \(directory)/server.key", "  require_certificate true",
            "  mosquitto_sub --cafile \(directory)/ca.crt -h broker.home -p 8883 -t '#' -v"
                + " --cert \(directory)/sensor.crt --key \(directory)/sensor.key",
        ] {
            #expect(lines.contains(expected), "missing line: \(expected)\n\(result.stdout)")
        }
    }

    @Test func thePrintedSettingsAreAValidListener() async throws {
        let parent = try TemporaryDirectory()
        let result = try await HomeRulesBinary.run(["certs", "certs", "--client", "sensor"], in: parent.path)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "In the homerules configuration (YAML):")) + 1
        let yaml = lines[start...].prefix { !$0.isEmpty }.map { String($0.dropFirst(2)) }.joined(separator: "\n")
        let listener = try #require(try ServeSettings.parse(yaml, path: "homerules.yaml").get().listeners?.first)
        #expect(listener.description == "0.0.0.0:8883")
        #expect(listener.tls?.requireCertificate == true && listener.tls?.useIdentityAsUsername == true)
    }

    @Test func withoutClientsNoCertificateIsRequired() async throws {
        let directory = try TemporaryDirectory()
        let result = try await HomeRulesBinary.run(["certs", directory.path, "--host", "pi.local", "--port", "18883"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("      require_certificate: false\n"))
        #expect(!result.stdout.contains("use_identity_as_username"))
        #expect(result.stdout.contains("  listener 18883\n"))
        #expect(result.stdout.contains("  mosquitto_sub --cafile \(directory.path)/ca.crt -h pi.local -p 18883 -t '#' -v\n"))
    }

    @Test func aSecondRunKeepsWhatExistsAndAddsTheNewClient() async throws {
        let directory = try TemporaryDirectory()
        _ = try await HomeRulesBinary.run(["certs", directory.path, "--ip", "10.0.0.2"])
        let authority = try Data(contentsOf: directory.file("ca.crt"))

        let again = try await HomeRulesBinary.run(["certs", directory.path, "--client", "kitchen-node"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("kept certificate authority"))
        #expect(again.stdout.contains("kept server certificate for localhost, 127.0.0.1, ::1, 10.0.0.2"))
        #expect(again.stdout.contains("made client certificate \"kitchen-node\""))
        #expect(try Data(contentsOf: directory.file("ca.crt")) == authority)

        let newNames = try await HomeRulesBinary.run(["certs", directory.path, "--host", "broker.home"])
        #expect(newNames.status == 1)
        #expect(newNames.stderr.contains("server.crt exists"))
        #expect(newNames.stderr.contains("hint: add --renew"))
        let renewed = try await HomeRulesBinary.run(["certs", directory.path, "--host", "broker.home", "--renew"])
        #expect(renewed.status == 0, "\(renewed.stderr)")
        #expect(renewed.stdout.contains("made server certificate for localhost, broker.home, 127.0.0.1, ::1"))
    }

    @Test func withoutNamesTheServerCertificateIsForThisMachine() async throws {
        let directory = try TemporaryDirectory()
        let result = try await HomeRulesBinary.run(["certs", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("made server certificate for localhost, "))
        #expect(result.stdout.contains("127.0.0.1, ::1"))
    }

    @Test(arguments: [
        (["--client", "../escape"], "cannot be a client name"),
        (["--host", "bad host"], "is not a host name"),
        (["--ip", "300.1.1.1"], "is not an IPv4 or IPv6 address"),
    ])
    func badArgumentsAreExplainedAndWriteNothing(arguments: [String], message: String) async throws {
        let parent = try TemporaryDirectory()
        let result = try await HomeRulesBinary.run(["certs", parent.file("certs").path] + arguments)
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: parent.file("certs").path))
    }
}
