import Foundation
import MQTT
import MQTTBroker
import MQTTClient
import TestSupport
import Testing

/// Our client over TLS against the real Mosquitto, with certificates from
/// the library behind `homerules certs`: server authentication only, and
/// mutual with a client certificate.
@Suite(.timeLimit(.minutes(5))) struct TLSClientTests {
    /// An authority, a server certificate for the loopback names and a
    /// `daemon` client certificate, in a temporary directory.
    private struct Certificates {
        let directory: TemporaryDirectory
        let outcome: HomeCertificates.Outcome

        init() throws {
            directory = try TemporaryDirectory()
            outcome = try HomeCertificates(directory: directory.path, serverNames: .loopback, clientNames: ["daemon"]).run()
        }

        var ca: String { outcome.authority.certificatePath }
        var daemon: (certificate: String, key: String) { (directory.file("daemon.crt").path, directory.file("daemon.key").path) }

        func mosquitto(requireCertificate: Bool = false) async throws -> MosquittoTLSBroker {
            try await MosquittoTLSBroker.start(
                cafile: ca, certfile: outcome.server.certificatePath, keyfile: outcome.server.keyPath,
                requireCertificate: requireCertificate, useIdentityAsUsername: requireCertificate)
        }
    }

    private func configuration(_ url: String, trusting ca: String) throws -> MQTTClientConfiguration {
        var configuration = try MQTTClientConfiguration(url: url)
        configuration.tls?.trustRoots = .file(ca)
        configuration.reconnect = .disabled
        configuration.connectTimeout = .seconds(10)
        return configuration
    }

    /// Publishes over one connection and receives over the other, both TLS.
    private func roundTrip(publisher: MQTTClient, subscriber: MQTTClient) async throws {
        let collector = MessageCollector()
        _ = try await subscriber.subscribe("home/tls/#", qos: .atLeastOnce, handler: collector.handler)
        try await publisher.publish(topic: "home/tls/led", payload: "on", qos: .atLeastOnce)
        try await collector.waitFor(count: 1)
        #expect(collector.messages.map { "\($0.topic) \($0.payloadString)" } == ["home/tls/led on"])
    }

    @Test func mqttsURLsUseTLSAndPort8883() throws {
        let configuration = try MQTTClientConfiguration(url: "mqtts://jake:1234@broker.local")
        #expect(configuration.port == 8883)
        #expect(configuration.tls == MQTTClientConfiguration.TLSOptions(trustRoots: .system))
        #expect(configuration.tls?.verifiesServerName == true)
        #expect(try MQTTClientConfiguration(url: "ssl://broker.local:18883").tls != nil)
        #expect(try MQTTClientConfiguration(url: "mqtt://broker.local").tls == nil)
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func ourClientTalksToMosquittoOverTLS() async throws {
        let certificates = try Certificates()
        let mosquitto = try await certificates.mosquitto()
        defer { mosquitto.stop() }

        let subscriber = try MQTTClient(configuration: configuration("mqtts://localhost:\(mosquitto.tlsPort)", trusting: certificates.ca))
        let publisher = try MQTTClient(configuration: configuration("mqtts://127.0.0.1:\(mosquitto.tlsPort)", trusting: certificates.ca))
        try await subscriber.connect()
        try await publisher.connect()
        try await roundTrip(publisher: publisher, subscriber: subscriber)
        await publisher.disconnect()
        await subscriber.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func ourClientRefusesMosquittoWithACertificateOfAnotherAuthority() async throws {
        let certificates = try Certificates(), stranger = try Certificates()
        let mosquitto = try await certificates.mosquitto()
        defer { mosquitto.stop() }

        await expectTLSRefusal(
            try configuration("mqtts://localhost:\(mosquitto.tlsPort)", trusting: stranger.ca), containing: "certificate verify failed")
    }

    @Test(.enabled(if: Peers.enabled("mosquitto")))
    func mosquittoWithRequireCertificateTakesOurClientCertificateAsTheUserName() async throws {
        let certificates = try Certificates()
        let mosquitto = try await certificates.mosquitto(requireCertificate: true)
        defer { mosquitto.stop() }

        var anonymous = try configuration("mqtts://localhost:\(mosquitto.tlsPort)", trusting: certificates.ca)
        anonymous.clientID = "no-certificate"
        await expectTLSRefusal(anonymous, containing: "client certificate")

        var daemon = anonymous
        daemon.clientID = "homerules-daemon"
        daemon.tls?.certificateFile = certificates.daemon.certificate
        daemon.tls?.keyFile = certificates.daemon.key
        let subscriber = try MQTTClient(configuration: daemon)
        daemon.clientID = "homerules-daemon-2"
        let publisher = try MQTTClient(configuration: daemon)
        try await subscriber.connect()
        try await publisher.connect()
        try await roundTrip(publisher: publisher, subscriber: subscriber)
        #expect(mosquitto.broker.process.output.contains("as homerules-daemon (p2, c1, k60, u'daemon')"), "\(mosquitto.broker.process.output)")
        await publisher.disconnect()
        await subscriber.disconnect()
    }

    @Test func unusableTLSFilesAreRefusedWhenTheClientIsMade() throws {
        let certificates = try Certificates()
        let missing = certificates.directory.file("missing.crt").path
        var configuration = MQTTClientConfiguration(host: "localhost", tls: .init(trustRoots: .file(missing)))
        #expect(throws: MQTTClientError.invalidConfiguration("the CA file \(missing) does not exist")) {
            try MQTTClient(configuration: configuration)
        }
        configuration.tls = .init(trustRoots: .file(certificates.daemon.key))
        #expect(throws: MQTTClientError.invalidConfiguration(
            "the CA file \(certificates.daemon.key) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")) {
            try MQTTClient(configuration: configuration)
        }
        configuration.tls = .init(trustRoots: .file(certificates.ca), certificateFile: certificates.daemon.certificate)
        #expect(throws: MQTTClientError.invalidConfiguration(
            "a TLS client certificate needs both a certificate file and a key file")) {
            try MQTTClient(configuration: configuration)
        }
        configuration.tls?.keyFile = certificates.outcome.server.keyPath
        #expect(throws: MQTTClientError.invalidConfiguration(
            "the client key \(certificates.outcome.server.keyPath) is not the private key of the certificate in \(certificates.daemon.certificate)")) {
            try MQTTClient(configuration: configuration)
        }
        configuration.tls?.keyFile = certificates.daemon.certificate
        #expect(throws: MQTTClientError.invalidConfiguration(
            "the client key \(certificates.daemon.certificate) is not an unencrypted PEM private key")) {
            try MQTTClient(configuration: configuration)
        }
        configuration.tls = .init(serverName: "10.0.0.1")
        #expect(throws: MQTTClientError.self) { try MQTTClient(configuration: configuration) }
    }
}

