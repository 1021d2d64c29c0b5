/// Why `homerules certs` cannot make or reuse a home's certificates.
public enum HomeCertificateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A file in the directory cannot be used.
    case unusableFile(path: String, problem: TLSSetupError.FileProblem)
    /// One of the authority's two files exists without the other.
    case incompleteAuthority(present: String, missing: String)
    /// The certificate in `ca.crt` is not allowed to sign certificates.
    case notAnAuthority(path: String)
    /// A key file that does not belong to the certificate beside it.
    case keyDoesNotMatchCertificate(keyFile: String, certFile: String)
    /// A certificate kept in the directory that the authority did not sign:
    /// clients that trust the authority would refuse it.
    case notIssuedByAuthority(path: String, authority: String)
    /// Server names were given, but a server certificate already exists;
    /// replacing it must be asked for.
    case serverCertificateExists(path: String)
    case invalidHostName(String)
    case invalidIPAddress(String)
    /// A client name that cannot be a file name and a common name.
    case invalidClientName(String, reason: String)
    /// The directory cannot be made, or a file in it cannot be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unusableFile(let path, let problem):
            "\(path) \(problem)"
        case .incompleteAuthority(let present, let missing):
            "\(present) exists but \(missing) does not; restore it, or move \(present) away to make a new certificate authority"
        case .notAnAuthority(let path):
            "\(path) is not a certificate authority (its basic constraints do not allow signing certificates)"
        case .keyDoesNotMatchCertificate(let keyFile, let certFile):
            "\(keyFile) is not the private key of the certificate in \(certFile)"
        case .notIssuedByAuthority(let path, let authority):
            "\(path) was not issued by the certificate authority in \(authority)"
        case .serverCertificateExists(let path):
            "\(path) exists; new names need a new server certificate"
        case .invalidHostName(let name):
            "\"\(name)\" is not a host name (letters, digits, hyphens and dots)"
        case .invalidIPAddress(let address):
            "\"\(address)\" is not an IPv4 or IPv6 address"
        case .invalidClientName(let name, let reason):
            "\"\(name)\" cannot be a client name: \(reason)"
        case .cannotWrite(let path, let reason):
            "cannot write \(path): \(reason)"
        }
    }
}
