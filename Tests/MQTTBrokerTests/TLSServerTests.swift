import Foundation
import MQTT
import MQTTBroker
import MQTTClient
import TestSupport
import Testing

/// A TLS listener built from `makeServerContext()` and
/// `BrokerTLS.addServerHandlers`, with certificates made by `homerules
/// certs`' library, against mosquitto_sub and our own client.
@Suite(.timeLimit(.minutes(5))) struct TLSServerTests {
    /// mosquitto_sub that prints one message and exits, or gives up after 20 s.
    private func mosquittoSub(_ tls: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(try Peers.require("mosquitto_sub"), tls + ["-t", "tls/test", "-C", "1", "-W", "20"])
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_sub")))
    func mosquittoSubTrustsTheServerThroughTheHomeAuthority() async throws {
        let fixture = try TLSFixture()
        let server = try await TLSTestServer.start(fixture.serverFiles())
        defer { Task { await server.stop() } }

        for host in ["localhost", "127.0.0.1"] {
            let sub = try mosquittoSub(fixture.mosquittoArguments(host: host, port: server.port))
            defer { sub.stop() }
            #expect(await sub.interopExit() == 0, "\(host): \(sub.output)")
            #expect(sub.interopLines == [TLSTestServer.greeting])
        }
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_sub")))
    func mosquittoSubRefusesAServerOfAnotherAuthority() async throws {
        let fixture = try TLSFixture(), stranger = try TLSFixture()
        let server = try await TLSTestServer.start(fixture.serverFiles())
        defer { Task { await server.stop() } }

        let sub = try mosquittoSub(stranger.mosquittoArguments(port: server.port))
        defer { sub.stop() }
        let status = await sub.interopExit()
        #expect(status != nil && status != 0)
        #expect(!sub.output.contains(TLSTestServer.greeting))
        #expect(server.clients.isEmpty)
    }

    @Test func ourClientConnectsByNameAndByAddress() async throws {
        let fixture = try TLSFixture()
        let server = try await TLSTestServer.start(fixture.serverFiles())
        defer { Task { await server.stop() } }

        for host in ["localhost", "127.0.0.1"] {
            let client = try MQTTClient(configuration: tlsConfiguration(host: host, port: server.port, trusting: fixture.caFile))
            try await client.connect()
            let greeting = try await firstMessage(of: client)
            #expect(greeting == TLSTestServer.greeting)
            await client.disconnect()
        }
        // No certificate was asked for without require_certificate.
        #expect(try await server.waitForClients(2).map(\.identity) == [nil, nil])
    }

    @Test func ourClientRefusesAServerOfAnotherAuthority() async throws {
        let fixture = try TLSFixture(), stranger = try TLSFixture()
        let server = try await TLSTestServer.start(fixture.serverFiles())
        defer { Task { await server.stop() } }

        await expectTLSRefusal(
            tlsConfiguration(host: "localhost", port: server.port, trusting: stranger.caFile), containing: "certificate verify failed")
        #expect(server.clients.isEmpty)
    }

    /// The home authority signs, with openssl as the origin document does,
    /// a server certificate for `elsewhere.home` only: no loopback name or
    /// address, so a client on 127.0.0.1 must refuse it unless told the name.
    @Test(.enabled(if: Peers.enabled("openssl", "mosquitto_sub")))
    func clientsCheckTheServersNameUnlessToldOtherwise() async throws {
        let fixture = try TLSFixture()
        let (certFile, keyFile) = try await opensslServerCertificate(for: "elsewhere.home", in: fixture)
        var files = fixture.serverFiles()
        (files.certFile, files.keyFile) = (certFile, keyFile)
        let server = try await TLSTestServer.start(files)
        defer { Task { await server.stop() } }

        var configuration = tlsConfiguration(host: "localhost", port: server.port, trusting: fixture.caFile)
        await expectTLSRefusal(configuration, containing: "not valid for the host name")
        configuration.tls?.serverName = "elsewhere.home"
        try await MQTTClient(configuration: configuration).connect()
        configuration.tls?.serverName = nil
        configuration.tls?.verifiesServerName = false
        try await MQTTClient(configuration: configuration).connect()

        let strict = try mosquittoSub(fixture.mosquittoArguments(port: server.port))
        defer { strict.stop() }
        let strictStatus = await strict.interopExit()
        #expect(strictStatus != nil && strictStatus != 0)
        let insecure = try mosquittoSub(fixture.mosquittoArguments(port: server.port) + ["--insecure"])
        defer { insecure.stop() }
        #expect(await insecure.interopExit() == 0, "\(insecure.output)")
        #expect(try await server.waitForClients(3).count == 3)
    }

    /// A key and a certificate for `name` alone, signed by the fixture's
    /// authority with openssl.
    private func opensslServerCertificate(for name: String, in fixture: TLSFixture) async throws -> (String, String) {
        let openssl = try Peers.require("openssl")
        let file = { (suffix: String) in fixture.directory.file("\(name).\(suffix)").path }
        try "subjectAltName = DNS:\(name)\nextendedKeyUsage = serverAuth\n".write(
            toFile: file("ext"), atomically: true, encoding: .utf8)
        for arguments in [
            ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", file("key"), "-subj", "/CN=\(name)", "-out", file("csr")],
            ["x509", "-req", "-in", file("csr"), "-CA", fixture.caFile, "-CAkey", fixture.directory.file("ca.key").path,
             "-CAcreateserial", "-days", "2", "-extfile", file("ext"), "-out", file("crt")],
        ] {
            let result = try await run(openssl, arguments)
            try #require(result.status == 0, "openssl \(arguments): \(result.stderr)")
        }
        return (file("crt"), file("key"))
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_sub")))
    func requireCertificateRefusesMosquittoSubWithoutOneAndAcceptsOneFromHomerulesCerts() async throws {
        let fixture = try TLSFixture(clients: ["sensor"]), stranger = try TLSFixture(clients: ["sensor"])
        let server = try await TLSTestServer.start(fixture.serverFiles(requireCertificate: true, useIdentityAsUsername: true))
        defer { Task { await server.stop() } }

        let anonymous = try mosquittoSub(fixture.mosquittoArguments(port: server.port))
        defer { anonymous.stop() }
        let anonymousStatus = await anonymous.interopExit()
        #expect(anonymousStatus != nil && anonymousStatus != 0)

        // A certificate with the right name from another authority is no better.
        let (strangerCert, strangerKey) = stranger.clientCertificate("sensor")
        let impostor = try mosquittoSub(fixture.mosquittoArguments(port: server.port) + ["--cert", strangerCert, "--key", strangerKey])
        defer { impostor.stop() }
        let impostorStatus = await impostor.interopExit()
        #expect(impostorStatus != nil && impostorStatus != 0)
        #expect(server.clients.isEmpty)

        let sensor = try mosquittoSub(fixture.mosquittoArguments(port: server.port, client: "sensor") + ["-i", "sensor-1"])
        defer { sensor.stop() }
        #expect(await sensor.interopExit() == 0, "\(sensor.output)")
        #expect(sensor.interopLines == [TLSTestServer.greeting])
        let seen = try await server.waitForClients(1)
        #expect(seen == [.init(clientID: "sensor-1", identity: "sensor")])
    }

    @Test func requireCertificateRefusesOurClientWithoutOneAndGivesTheIdentityOfOneWithIt() async throws {
        let fixture = try TLSFixture(clients: ["daemon"])
        let server = try await TLSTestServer.start(fixture.serverFiles(requireCertificate: true))
        defer { Task { await server.stop() } }

        var configuration = tlsConfiguration(host: "localhost", port: server.port, trusting: fixture.caFile)
        await expectTLSRefusal(configuration, containing: "client certificate")

        configuration.tls?.certificateFile = fixture.clientCertificate("daemon").certFile
        configuration.tls?.keyFile = fixture.clientCertificate("daemon").keyFile
        configuration.clientID = "homerules-daemon"
        let daemon = try MQTTClient(configuration: configuration)
        try await daemon.connect()
        let seen = try await server.waitForClients(1)
        #expect(seen.map(\.identity) == ["daemon"])
        #expect(seen.map(\.clientID) == ["homerules-daemon"])
        await daemon.disconnect()
    }

    private func tlsConfiguration(host: String, port: Int, trusting caFile: String) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(host: host, port: port)
        configuration.tls = .init(trustRoots: .file(caFile))
        configuration.reconnect = .disabled
        configuration.connectTimeout = .seconds(10)
        return configuration
    }

    private func firstMessage(of client: MQTTClient) async throws -> String? {
        let subscription = try await client.subscribe("tls/test")
        let task = Task { await subscription.first { _ in true }?.payloadString }
        let timer = Task {
            try await Task.sleep(for: .seconds(10))
            task.cancel()
        }
        defer { timer.cancel() }
        return await task.value
    }
}

