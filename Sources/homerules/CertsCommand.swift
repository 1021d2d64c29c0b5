import ArgumentParser
import Foundation
import MQTTBroker

/// `homerules certs DIR`: a home certificate authority, the broker's
/// certificate and client certificates, without openssl.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make a home certificate authority and the TLS certificates of the broker and its clients.",
        discussion: """
            Writes ca.crt and ca.key (the authority, 10 years), server.crt and server.key (the broker, 2 years) \
            and, for each --client NAME, NAME.crt and NAME.key (common name NAME, for use_identity_as_username) \
            into DIR, made with mode 0700 if missing. Keys are ECDSA P-256 and written with mode 0600. \
            Files already in DIR are kept: run it again with another --client to add a client signed by the same \
            authority, or with --renew to issue the server's and the named clients' certificates again. \
            Prints the configuration lines and a mosquitto_sub command to try it.
            """
    )

    @Argument(help: ArgumentHelp("The directory for the certificates and keys.", valueName: "dir"))
    var directory: String

    @Option(name: .customLong("host"), help: ArgumentHelp(
        "A host name the broker is reached by (repeatable). With --host or --ip, only these and localhost, "
            + "127.0.0.1 and ::1 are in the server certificate; without, this machine's names and addresses.",
        valueName: "name"))
    var hostNames: [String] = []

    @Option(name: .customLong("ip"), help: ArgumentHelp("An IP address the broker is reached at (repeatable).", valueName: "addr"))
    var ipAddresses: [String] = []

    @Option(name: .customLong("client"), help: ArgumentHelp("Also make a client certificate with this common name (repeatable).", valueName: "name"))
    var clientNames: [String] = []

    @Flag(help: "Issue the server certificate (and the named clients') again, with new keys and the same authority.")
    var renew = false

    @Option(help: "The TLS port for the printed configuration.")
    var port = 8883

    func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port \(port) is not between 1 and 65535") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: self.directory).standardizedFileURL.path
        do throws(HomeCertificateError) {
            let serverNames = hostNames.isEmpty && ipAddresses.isEmpty
                ? nil : try ServerNames(hostNames: hostNames, ipAddresses: ipAddresses)
            let request = HomeCertificates(directory: directory, serverNames: serverNames, clientNames: clientNames, renew: renew)
            print(CertsReport(outcome: try request.run(), port: port).text)
        } catch {
            printError("error: \(error)")
            switch error {
            case .notIssuedByAuthority: printError("hint: add --renew to issue it again with the authority in \(directory)")
            case .serverCertificateExists: printError("hint: add --renew to replace it")
            default: break
            }
            throw ExitCode.failure
        }
    }
}

/// What `homerules certs` prints: the files, then how to use them.
struct CertsReport {
    var outcome: HomeCertificates.Outcome
    var port: Int

    var text: String {
        var lines: [String] = []
        let authority = outcome.authority
        lines.append("\(state(outcome.authorityIsNew)) certificate authority \"\(authority.commonName)\", valid until \(day(authority.notValidAfter))")
        lines.append("  \(authority.certificatePath)")
        lines.append("  \(authority.keyPath)  (private: whoever has it can make certificates your broker and clients trust)")
        let server = outcome.server
        lines.append("\(state(outcome.serverIsNew)) server certificate for \(server.subjectAlternativeNames.joined(separator: ", ")), valid until \(day(server.notValidAfter))")
        lines.append("  \(server.certificatePath)")
        lines.append("  \(server.keyPath)")
        for (client, isNew) in outcome.clients {
            lines.append("\(state(isNew)) client certificate \"\(client.commonName)\", valid until \(day(client.notValidAfter))")
            lines.append("  \(client.certificatePath)")
            lines.append("  \(client.keyPath)")
        }
        let requireCertificate = !outcome.clients.isEmpty
        lines += ["", "In the homerules configuration (YAML):", "  listeners:", "    - host: 0.0.0.0", "      port: \(port)", "      protocol: mqtts"]
        lines += tlsOptions(requireCertificate: requireCertificate).map { "      \($0.name): \($0.value)" }
        lines += ["", "Or in mosquitto.conf:", "  listener \(port)"]
        lines += tlsOptions(requireCertificate: requireCertificate).map { "  \($0.name) \($0.value)" }
        lines += ["", "To try it:", "  \(testCommand)"]
        if !requireCertificate {
            lines.append("  (a listener on all addresses refuses anonymous clients: add -u USER -P PASSWORD, or allow_anonymous)")
        }
        return lines.joined(separator: "\n")
    }

    private func tlsOptions(requireCertificate: Bool) -> [(name: String, value: String)] {
        var options = [
            ("cafile", outcome.authority.certificatePath),
            ("certfile", outcome.server.certificatePath),
            ("keyfile", outcome.server.keyPath),
            ("require_certificate", "\(requireCertificate)"),
        ]
        if requireCertificate { options.append(("use_identity_as_username", "true")) }
        return options
    }

    /// mosquitto_sub checks the name after -h against the certificate, so
    /// it is one of the certificate's names.
    private var testCommand: String {
        let host = outcome.server.subjectAlternativeNames.first { $0 != "localhost" } ?? "localhost"
        var command = "mosquitto_sub --cafile \(quoted(outcome.authority.certificatePath)) -h \(host) -p \(port) -t '#' -v"
        if let client = outcome.clients.first?.certificate {
            command += " --cert \(quoted(client.certificatePath)) --key \(quoted(client.keyPath))"
        }
        return command
    }

    private func state(_ isNew: Bool) -> String { isNew ? "made" : "kept" }

    private func day(_ date: Date) -> String { date.formatted(.iso8601.year().month().day()) }

    private func quoted(_ path: String) -> String {
        path.allSatisfy { $0.isLetter || $0.isNumber || "/._-".contains($0) } ? path : "'\(path.replacing("'", with: "'\\''"))'"
    }
}
