import Foundation
import MQTTBroker
import TestSupport
import Testing

/// The files of `homerules certs` in the real Mosquitto, as the origin
/// document sets it up with openssl: a TLS listener with cafile, certfile
/// and keyfile, and mosquitto_pub / mosquitto_sub with --cafile.
@Suite(.timeLimit(.minutes(5))) struct TLSMosquittoTests {
    @Test(.enabled(if: Peers.enabled("mosquitto", "mosquitto_sub", "mosquitto_pub")))
    func mosquittoServesTLSWithTheHomeCertificates() async throws {
        let fixture = try TLSFixture()
        let mosquitto = try await MosquittoTLSBroker.start(cafile: fixture.caFile, certfile: fixture.certFile, keyfile: fixture.keyFile)
        defer { mosquitto.stop() }

        let received = try await exchange(
            subscriber: fixture.mosquittoArguments(port: mosquitto.tlsPort),
            publisher: fixture.mosquittoArguments(host: "127.0.0.1", port: mosquitto.tlsPort), on: mosquitto)
        #expect(received == ["home/tls hello"])
    }

    @Test(.enabled(if: Peers.enabled("mosquitto", "mosquitto_sub", "mosquitto_pub")))
    func mosquittoRequiresAndNamesClientsByTheirHomeCertificates() async throws {
        let fixture = try TLSFixture(clients: ["sensor", "dashboard"])
        let mosquitto = try await MosquittoTLSBroker.start(
            cafile: fixture.caFile, certfile: fixture.certFile, keyfile: fixture.keyFile,
            requireCertificate: true, useIdentityAsUsername: true)
        defer { mosquitto.stop() }

        let anonymous = try await run(try Peers.require("mosquitto_pub"),
            fixture.mosquittoArguments(port: mosquitto.tlsPort) + ["-t", "home/tls", "-m", "no certificate"], timeout: 20)
        #expect(anonymous.status != 0)

        let received = try await exchange(
            subscriber: fixture.mosquittoArguments(port: mosquitto.tlsPort, client: "dashboard"),
            publisher: fixture.mosquittoArguments(port: mosquitto.tlsPort, client: "sensor"), on: mosquitto)
        #expect(received == ["home/tls hello"])
        // Mosquitto logs the user name it took from the certificate.
        #expect(mosquitto.broker.process.output.contains("u'sensor'"), "\(mosquitto.broker.process.output)")
    }

    /// mosquitto_sub subscribes, mosquitto_pub publishes `hello`; returns what the subscriber printed.
    private func exchange(subscriber: [String], publisher: [String], on mosquitto: MosquittoTLSBroker) async throws -> [String] {
        let sub = try BackgroundProcess(try Peers.require("mosquitto_sub"), subscriber + ["-t", "home/tls", "-v", "-C", "1", "-W", "20"])
        defer { sub.stop() }
        guard await mosquitto.broker.process.waitForOutput(timeout: 15, { $0.contains("Received SUBSCRIBE") }) else {
            throw InteropFailure("mosquitto_sub did not subscribe: \(sub.output)\n\(mosquitto.broker.process.output)")
        }
        let pub = try await run(try Peers.require("mosquitto_pub"), publisher + ["-t", "home/tls", "-m", "hello"], timeout: 20)
        try #require(pub.status == 0, "mosquitto_pub: \(pub.stdout)\(pub.stderr)")
        #expect(await sub.interopExit() == 0, "\(sub.output)")
        return sub.interopLines
    }
}
