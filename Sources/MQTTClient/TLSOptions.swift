import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension MQTTClientConfiguration {
    /// How the client secures its connection with TLS (`mqtts://`), with
    /// the options of `mosquitto_sub` by other names.
    ///
    /// ```swift
    /// var configuration = try MQTTClientConfiguration(url: "mqtts://broker.local")
    /// configuration.tls?.trustRoots = .file("/etc/homerules/certs/ca.crt")      // --cafile
    /// configuration.tls?.certificateFile = "/etc/homerules/certs/daemon.crt"    // --cert
    /// configuration.tls?.keyFile = "/etc/homerules/certs/daemon.key"            // --key
    /// ```
    ///
    /// TLS 1.2 is the oldest version spoken. The broker's certificate must be
    /// signed by one of the trust roots and name the host connected to (or
    /// ``serverName``), as a browser checks a web site's.
    public struct TLSOptions: Sendable, Hashable {
        /// Whom the client trusts to sign the broker's certificate.
        public enum TrustRoots: Sendable, Hashable {
            /// The system's authorities, for a broker with a public certificate.
            case system
            /// The authorities in a PEM file, such as the `ca.crt` that
            /// `homerules certs` makes (`mosquitto_sub --cafile`).
            case file(String)
            /// Authorities already loaded.
            case certificates([NIOSSLCertificate])
        }

        public var trustRoots: TrustRoots
        /// The client's own certificate, PEM, for a broker with
        /// `require_certificate` (`--cert`). Needs ``keyFile``.
        public var certificateFile: String?
        /// The private key of ``certificateFile``, PEM, unencrypted (`--key`).
        public var keyFile: String?
        /// The name the broker's certificate must carry, when it is not the
        /// host connected to (an address, say). Also sent as SNI.
        public var serverName: String?
        /// Whether the broker's certificate must name the host. Off, only
        /// its signature is checked, as with `mosquitto_sub --insecure`:
        /// anyone with a certificate from the same authority could pose as the broker.
        public var verifiesServerName: Bool

        public init(
            trustRoots: TrustRoots = .system, certificateFile: String? = nil, keyFile: String? = nil,
            serverName: String? = nil, verifiesServerName: Bool = true
        ) {
            self.trustRoots = trustRoots
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.serverName = serverName
            self.verifiesServerName = verifiesServerName
        }

        func validate() throws(MQTTClientError) {
            if (certificateFile == nil) != (keyFile == nil) {
                throw .invalidConfiguration("a TLS client certificate needs both a certificate file and a key file")
            }
            if let serverName {
                if serverName.isEmpty || serverName.utf8.count > 255 || serverName.utf8.contains(0) {
                    throw .invalidConfiguration("the TLS server name \"\(serverName)\" is not a host name")
                }
                if Self.isIPAddress(serverName) {
                    throw .invalidConfiguration("the TLS server name must be a host name; an address is checked when connecting to it")
                }
            }
        }

        /// The name to send as SNI and to check the certificate against; nil
        /// for an IP address, which NIOSSL then checks against the
        /// certificate's IP addresses.
        func serverHostname(connectingTo host: String) -> String? {
            serverName ?? (Self.isIPAddress(host) ? nil : host)
        }

        /// Reads the files and makes the context that every connection of
        /// the client shares.
        func makeContext() throws(MQTTClientError) -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = verifiesServerName ? .fullVerification : .noHostnameVerification
            switch trustRoots {
            case .system: configuration.trustRoots = .default
            case .file(let path): configuration.trustRoots = .certificates(try Self.certificates(at: path, role: "CA file"))
            case .certificates(let certificates): configuration.trustRoots = .certificates(certificates)
            }
            if let certificateFile, let keyFile {
                configuration.certificateChain = try Self.certificates(at: certificateFile, role: "client certificate").map { .certificate($0) }
                try Self.requireReadable(keyFile, role: "client key")
                guard let key = try? NIOSSLPrivateKey(file: keyFile, format: .pem) else {
                    throw .invalidConfiguration("the client key \(keyFile) is not an unencrypted PEM private key")
                }
                configuration.privateKey = .privateKey(key)
            }
            do {
                return try NIOSSLContext(configuration: configuration)
            } catch NIOSSLError.failedToLoadPrivateKey {
                throw .invalidConfiguration("the client key \(keyFile ?? "") is not the private key of the certificate in \(certificateFile ?? "")")
            } catch {
                throw .invalidConfiguration("TLS cannot be set up: \(error)")
            }
        }

        private static func certificates(at path: String, role: String) throws(MQTTClientError) -> [NIOSSLCertificate] {
            try requireReadable(path, role: role)
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
                throw .invalidConfiguration("the \(role) \(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
            }
            return certificates
        }

        private static func requireReadable(_ path: String, role: String) throws(MQTTClientError) {
            guard access(path, R_OK) != 0 else { return }
            let reason = errno == ENOENT ? "does not exist" : "cannot be read: \(String(cString: strerror(errno)))"
            throw .invalidConfiguration("the \(role) \(path) \(reason)")
        }

        private static func isIPAddress(_ text: String) -> Bool {
            (try? SocketAddress(ipAddress: text, port: 0)) != nil
        }
    }
}
