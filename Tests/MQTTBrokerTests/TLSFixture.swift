import Foundation
import MQTTBroker
import TestSupport

/// A home's certificates, made by the library behind `homerules certs` in a
/// temporary directory: an authority, a server certificate for localhost,
/// 127.0.0.1 and ::1, and client certificates.
struct TLSFixture {
    let directory: TemporaryDirectory
    let outcome: HomeCertificates.Outcome

    init(clients: [String] = ["sensor"]) throws {
        directory = try TemporaryDirectory()
        outcome = try HomeCertificates(directory: directory.path, serverNames: .loopback, clientNames: clients).run()
    }

    var caFile: String { outcome.authority.certificatePath }
    var certFile: String { outcome.server.certificatePath }
    var keyFile: String { outcome.server.keyPath }

    func clientCertificate(_ name: String) -> (certFile: String, keyFile: String) {
        (directory.file(name + ".crt").path, directory.file(name + ".key").path)
    }

    /// The listener files, as a configuration file would name them.
    func serverFiles(requireCertificate: Bool = false, useIdentityAsUsername: Bool = false) -> BrokerConfiguration.TLSFiles {
        BrokerConfiguration.TLSFiles(
            caFile: caFile, certFile: certFile, keyFile: keyFile,
            requireCertificate: requireCertificate, useIdentityAsUsername: useIdentityAsUsername)
    }

    /// mosquitto_sub's TLS arguments that trust this authority.
    func mosquittoArguments(host: String = "localhost", port: Int, client: String? = nil) -> [String] {
        var arguments = ["--cafile", caFile, "-h", host, "-p", "\(port)"]
        if let client {
            let (certFile, keyFile) = clientCertificate(client)
            arguments += ["--cert", certFile, "--key", keyFile]
        }
        return arguments
    }
}
