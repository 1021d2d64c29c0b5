/// Why a TLS listener cannot be set up from its files, naming the
/// mosquitto.conf option, the file and what is wrong with it.
public enum TLSSetupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file given for `option` (`cafile`, `certfile` or `keyfile`) cannot be used.
    case unusableFile(option: String, path: String, problem: FileProblem)
    /// The key in `keyfile` is not the private key of the certificate in `certfile`.
    case keyDoesNotMatchCertificate(keyFile: String, certFile: String)
    /// `require_certificate` without a `cafile` to verify client certificates against.
    case requireCertificateWithoutCAFile
    /// `use_identity_as_username` without `require_certificate`: no client
    /// would be asked for a certificate, so every client would be refused.
    case identityWithoutRequiredCertificate

    /// What is wrong with a certificate or key file.
    public enum FileProblem: Error, Sendable, Hashable, CustomStringConvertible {
        case missing
        /// It exists but cannot be read; the reason is the system's.
        case unreadable(String)
        /// No `-----BEGIN ...-----` block: perhaps DER, or not a certificate at all.
        case notPEM
        /// PEM, but no `CERTIFICATE` block in it (a key given as a certificate?).
        case noCertificate
        /// A `CERTIFICATE` block that does not parse.
        case invalidCertificate
        /// PEM, but no private key block in it (a certificate given as a key?).
        case noPrivateKey
        /// A private key protected by a passphrase, which a daemon cannot type.
        case encryptedKey
        /// A private key block that does not parse, or of a kind TLS cannot use.
        case invalidKey

        public var description: String {
            switch self {
            case .missing: "does not exist"
            case .unreadable(let reason): "cannot be read: \(reason)"
            case .notPEM: "is not a PEM file (expected -----BEGIN CERTIFICATE----- or -----BEGIN PRIVATE KEY-----)"
            case .noCertificate: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            case .invalidCertificate: "holds a certificate that cannot be parsed"
            case .noPrivateKey: "holds no PEM private key (-----BEGIN PRIVATE KEY-----)"
            case .encryptedKey:
                "holds a private key encrypted with a passphrase; decrypt it once with `openssl pkey -in KEY -out KEY.plain` and keep that file private"
            case .invalidKey: "holds a private key that cannot be parsed or used"
            }
        }
    }

    public var description: String {
        switch self {
        case .unusableFile(let option, let path, let problem):
            "\(option) \(path) \(problem)"
        case .keyDoesNotMatchCertificate(let keyFile, let certFile):
            "keyfile \(keyFile) is not the private key of the certificate in certfile \(certFile)"
        case .requireCertificateWithoutCAFile:
            "require_certificate needs a cafile: the certificate authority that client certificates must be signed by"
        case .identityWithoutRequiredCertificate:
            "use_identity_as_username needs require_certificate true: without it no client is asked for a certificate, and every client would be refused"
        }
    }
}
