import Foundation
import MQTTBroker
import TestSupport
import Testing

/// A TLS listener with files it cannot use does not start, and says which
/// option names which file and what is wrong with it.
@Suite(.timeLimit(.minutes(5))) struct TLSSetupErrorTests {
    private func setupError(_ files: BrokerConfiguration.TLSFiles) -> TLSSetupError? {
        do {
            _ = try files.makeServerContext()
            return nil
        } catch {
            return error
        }
    }

    @Test func theFilesOfHomerulesCertsMakeAContextWithAndWithoutClientCertificates() throws {
        let fixture = try TLSFixture()
        _ = try fixture.serverFiles().makeServerContext()
        _ = try fixture.serverFiles(requireCertificate: true, useIdentityAsUsername: true).makeServerContext()
        var withoutAuthority = fixture.serverFiles()
        withoutAuthority.caFile = nil
        _ = try withoutAuthority.makeServerContext()
    }

    @Test func aMissingFileIsNamedWithItsOption() throws {
        let fixture = try TLSFixture()
        let missing = fixture.directory.file("nowhere.pem").path
        var files = fixture.serverFiles()
        files.certFile = missing
        #expect(setupError(files) == .unusableFile(option: "certfile", path: missing, problem: .missing))
        #expect(setupError(files)?.description == "certfile \(missing) does not exist")
        files = fixture.serverFiles()
        files.keyFile = missing
        #expect(setupError(files) == .unusableFile(option: "keyfile", path: missing, problem: .missing))
        files = fixture.serverFiles()
        files.caFile = missing
        #expect(setupError(files) == .unusableFile(option: "cafile", path: missing, problem: .missing))
    }

    @Test func aDirectoryIsUnreadable() throws {
        let fixture = try TLSFixture()
        var files = fixture.serverFiles()
        files.caFile = fixture.directory.path
        guard case .unusableFile("cafile", fixture.directory.path, .unreadable(let reason))? = setupError(files) else {
            Issue.record("expected an unreadable cafile, got \(String(describing: setupError(files)))")
            return
        }
        #expect(reason.lowercased().contains("directory"))
    }

    @Test func filesThatAreNotPEMOrHoldTheWrongThingAreExplained() throws {
        let fixture = try TLSFixture()
        let garbage = fixture.directory.file("garbage.crt").path
        try Data([0x30, 0x82, 0x01, 0x0A, 0x02]).write(to: URL(fileURLWithPath: garbage))
        let brokenBase64 = fixture.directory.file("broken.crt").path
        try "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n".write(
            toFile: brokenBase64, atomically: true, encoding: .utf8)

        var files = fixture.serverFiles()
        files.certFile = garbage
        #expect(setupError(files) == .unusableFile(option: "certfile", path: garbage, problem: .notPEM))
        files.certFile = fixture.keyFile
        #expect(setupError(files) == .unusableFile(option: "certfile", path: fixture.keyFile, problem: .noCertificate))
        files.certFile = brokenBase64
        #expect(setupError(files) == .unusableFile(option: "certfile", path: brokenBase64, problem: .invalidCertificate))

        files = fixture.serverFiles()
        files.keyFile = fixture.certFile
        #expect(setupError(files) == .unusableFile(option: "keyfile", path: fixture.certFile, problem: .noPrivateKey))
        files.caFile = fixture.keyFile
        files.keyFile = fixture.keyFile
        #expect(setupError(files) == .unusableFile(option: "cafile", path: fixture.keyFile, problem: .noCertificate))
    }

    @Test(.enabled(if: Peers.enabled("openssl")))
    func aKeyWithAPassphraseIsExplained() async throws {
        let fixture = try TLSFixture()
        let encrypted = fixture.directory.file("encrypted.key").path
        let result = try await run(try Peers.require("openssl"), [
            "pkey", "-in", fixture.keyFile, "-out", encrypted, "-aes256", "-passout", "pass:1234",
        ])
        try #require(result.status == 0, "\(result.stderr)")
        var files = fixture.serverFiles()
        files.keyFile = encrypted
        #expect(setupError(files) == .unusableFile(option: "keyfile", path: encrypted, problem: .encryptedKey))
        #expect(setupError(files)?.description.contains("passphrase") == true)
    }

    @Test func aKeyOfAnotherCertificateIsRefused() throws {
        let fixture = try TLSFixture(clients: ["sensor"])
        var files = fixture.serverFiles()
        files.keyFile = fixture.clientCertificate("sensor").keyFile
        #expect(setupError(files) == .keyDoesNotMatchCertificate(keyFile: files.keyFile, certFile: fixture.certFile))
        #expect(setupError(files)?.description
            == "keyfile \(files.keyFile) is not the private key of the certificate in certfile \(fixture.certFile)")
    }

    @Test func optionsThatCannotWorkTogetherAreRefused() throws {
        let fixture = try TLSFixture()
        var files = fixture.serverFiles(requireCertificate: true)
        files.caFile = nil
        #expect(setupError(files) == .requireCertificateWithoutCAFile)
        files = fixture.serverFiles(requireCertificate: false, useIdentityAsUsername: true)
        #expect(setupError(files) == .identityWithoutRequiredCertificate)
    }
}
