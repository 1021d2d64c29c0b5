import Crypto
import Foundation
import X509

/// A certificate authority of one's own, kept as `ca.crt` and `ca.key` in a
/// directory, which signs the broker's and the clients' certificates there:
/// what the openssl ceremony of Mosquitto's guides makes, in one step.
///
/// Keys are ECDSA P-256, which Mosquitto, OpenSSL, paho and the ESP8266's
/// BearSSL all speak. An authority made elsewhere (an RSA one from openssl,
/// say) is used as it is, as long as its key is not encrypted.
public struct HomeCertificateAuthority: Sendable {
    /// The authority lives ten years: long enough never to redo every
    /// device, short enough that a forgotten one expires.
    public static let authorityLifetimeDays = 3650
    /// Server and client certificates live two years (under the 825 days
    /// that Apple's systems accept for a server certificate).
    public static let leafLifetimeDays = 730
    /// Certificates start an hour before they are made, for the clocks of
    /// devices that run a little behind.
    static let backdating: TimeInterval = 3600

    public let directory: String
    let certificate: Certificate
    let privateKey: Certificate.PrivateKey

    public var certificatePath: String { Self.path(directory, "ca.crt") }
    public var keyPath: String { Self.path(directory, "ca.key") }
    /// The subject's common name, which clients show as the issuer.
    public var commonName: String { certificate.subject.commonName ?? "" }
    public var notValidAfter: Date { certificate.notValidAfter }

    /// The authority in `directory`, or nil when it has neither file.
    /// - Throws: when only one of the files is there, or they cannot be
    ///   read, do not match, or the certificate cannot sign.
    public static func load(from directory: String) throws(HomeCertificateError) -> HomeCertificateAuthority? {
        let certificatePath = path(directory, "ca.crt"), keyPath = path(directory, "ca.key")
        switch (CertificateFiles.exists(certificatePath), CertificateFiles.exists(keyPath)) {
        case (false, false): return nil
        case (true, false): throw .incompleteAuthority(present: certificatePath, missing: keyPath)
        case (false, true): throw .incompleteAuthority(present: keyPath, missing: certificatePath)
        case (true, true): break
        }
        let (certificate, key) = try readPair(certificatePath: certificatePath, keyPath: keyPath)
        guard case .isCertificateAuthority? = try? certificate.extensions.basicConstraints else {
            throw .notAnAuthority(path: certificatePath)
        }
        return HomeCertificateAuthority(directory: directory, certificate: certificate, privateKey: key)
    }

    /// Makes a new authority named after `hostName` and writes its files into
    /// `directory`, which is made (mode 0700) if missing.
    public static func create(in directory: String, hostName: String, now: Date) throws(HomeCertificateError) -> HomeCertificateAuthority {
        try CertificateFiles.makeDirectory(directory)
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let day = now.formatted(.iso8601.year().month().day())
        let certificate = try wrap(path(directory, "ca.crt")) {
            let name = try DistinguishedName {
                OrganizationName("HomeRules")
                CommonName("HomeRules home CA \(hostName) \(day)")
            }
            return try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
                notValidBefore: now - backdating, notValidAfter: now + days(authorityLifetimeDays),
                issuer: name, subject: name,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: key.publicKey)
                },
                issuerPrivateKey: key)
        }
        let authority = HomeCertificateAuthority(directory: directory, certificate: certificate, privateKey: key)
        try authority.write(certificate, key, certificatePath: authority.certificatePath, keyPath: authority.keyPath)
        return authority
    }

    /// Issues the broker's certificate, `server.crt` and `server.key`, for
    /// the names and addresses that clients will connect to.
    public func issueServerCertificate(for names: ServerNames, now: Date) throws(HomeCertificateError) -> IssuedCertificate {
        let alternativeNames = names.hostNames.map(GeneralName.dnsName)
            + names.ipAddresses.compactMap { IPAddress($0).map { .ipAddress(.init(contentBytes: $0.bytes[...])) } }
        return try issue(
            file: "server", commonName: names.primaryHostName, usage: .serverAuth,
            alternativeNames: SubjectAlternativeNames(alternativeNames), now: now)
    }

    /// Issues a client's certificate, `NAME.crt` and `NAME.key`, whose common
    /// name is `name`: the user name under `use_identity_as_username`.
    public func issueClientCertificate(name: String, now: Date) throws(HomeCertificateError) -> IssuedCertificate {
        try Self.validateClientName(name)
        return try issue(file: name, commonName: name, usage: .clientAuth, alternativeNames: nil, now: now)
    }

    /// The certificate `NAME.crt` with `NAME.key` already in the directory,
    /// or nil when there is neither.
    /// - Throws: when it was not signed by this authority, or its key does not match.
    public func existingCertificate(file name: String) throws(HomeCertificateError) -> IssuedCertificate? {
        let certificatePath = Self.path(directory, name + ".crt"), keyPath = Self.path(directory, name + ".key")
        guard CertificateFiles.exists(certificatePath) || CertificateFiles.exists(keyPath) else { return nil }
        let (certificate, _) = try Self.readPair(certificatePath: certificatePath, keyPath: keyPath)
        guard certificate.issuer == self.certificate.subject,
            self.certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        else {
            throw .notIssuedByAuthority(path: certificatePath, authority: self.certificatePath)
        }
        return IssuedCertificate(certificate, certificatePath: certificatePath, keyPath: keyPath)
    }

    /// Client names become file names and common names: letters, digits and
    /// `.`, `_`, `-`, `@`, 64 at most, and not the names of the other files.
    static func validateClientName(_ name: String) throws(HomeCertificateError) {
        func invalid(_ reason: String) -> HomeCertificateError { .invalidClientName(name, reason: reason) }
        guard !name.isEmpty, name.utf8.count <= 64 else { throw invalid("it must have 1 to 64 characters") }
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-@".unicodeScalars.contains($0))
        }
        guard allowed else { throw invalid("only letters, digits, '.', '_', '-' and '@' are allowed") }
        guard !name.hasPrefix("."), !name.hasPrefix("-") else { throw invalid("it must not start with '.' or '-'") }
        guard !["ca", "server"].contains(name.lowercased()) else { throw invalid("ca and server are the authority's and the broker's files") }
    }

    // MARK: Issuing

    private func issue(
        file: String, commonName: String, usage: ExtendedKeyUsage.Usage, alternativeNames: SubjectAlternativeNames?, now: Date
    ) throws(HomeCertificateError) -> IssuedCertificate {
        let certificatePath = Self.path(directory, file + ".crt"), keyPath = Self.path(directory, file + ".key")
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        // A certificate outliving its authority would fail verification the day the authority expires.
        let notValidAfter = min(now + Self.days(Self.leafLifetimeDays), certificate.notValidAfter)
        let certificate = try Self.wrap(certificatePath) {
            try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
                notValidBefore: now - Self.backdating, notValidAfter: notValidAfter,
                issuer: self.certificate.subject,
                subject: try DistinguishedName {
                    OrganizationName("HomeRules")
                    CommonName(commonName)
                },
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([usage])
                    SubjectKeyIdentifier(hash: key.publicKey)
                    // Copied, not computed: verifiers match it against the authority's own.
                    if let authorityKey = try self.certificate.extensions.subjectKeyIdentifier {
                        AuthorityKeyIdentifier(keyIdentifier: authorityKey.keyIdentifier)
                    }
                    if let alternativeNames { alternativeNames }
                },
                issuerPrivateKey: privateKey)
        }
        try write(certificate, key, certificatePath: certificatePath, keyPath: keyPath)
        return IssuedCertificate(certificate, certificatePath: certificatePath, keyPath: keyPath)
    }

    /// The key first: a certificate without its key is of no use, a key
    /// without its certificate is simply issued again.
    private func write(_ certificate: Certificate, _ key: Certificate.PrivateKey, certificatePath: String, keyPath: String) throws(HomeCertificateError) {
        let keyPEM = try Self.wrap(keyPath) { try key.serializeAsPEM().pemString }
        let certificatePEM = try Self.wrap(certificatePath) { try certificate.serializeAsPEM().pemString }
        try CertificateFiles.writeFile(keyPEM + "\n", to: keyPath, mode: CertificateFiles.privateKeyMode)
        try CertificateFiles.writeFile(certificatePEM + "\n", to: certificatePath, mode: CertificateFiles.certificateMode)
    }

    // MARK: Reading

    private static func readPair(certificatePath: String, keyPath: String) throws(HomeCertificateError) -> (Certificate, Certificate.PrivateKey) {
        let certificateBytes = try pemBytes(of: certificatePath)
        let keyBytes = try pemBytes(of: keyPath)
        guard let certificate = try? Certificate(pemEncoded: String(decoding: certificateBytes, as: UTF8.self)) else {
            let problem: TLSSetupError.FileProblem = PEMFile.contains(PEMFile.certificateMarker, in: certificateBytes) ? .invalidCertificate : .noCertificate
            throw .unusableFile(path: certificatePath, problem: problem)
        }
        if PEMFile.isEncryptedKey(keyBytes) { throw .unusableFile(path: keyPath, problem: .encryptedKey) }
        guard let key = try? Certificate.PrivateKey(pemEncoded: String(decoding: keyBytes, as: UTF8.self)) else {
            throw .unusableFile(path: keyPath, problem: PEMFile.contains(PEMFile.keyMarker, in: keyBytes) ? .invalidKey : .noPrivateKey)
        }
        guard key.publicKey == certificate.publicKey else {
            throw .keyDoesNotMatchCertificate(keyFile: keyPath, certFile: certificatePath)
        }
        return (certificate, key)
    }

    private static func pemBytes(of path: String) throws(HomeCertificateError) -> [UInt8] {
        switch PEMFile.contents(of: path) {
        case .success(let bytes):
            guard PEMFile.contains(PEMFile.pemMarker, in: bytes) else { throw .unusableFile(path: path, problem: .notPEM) }
            return bytes
        case .failure(let problem):
            throw .unusableFile(path: path, problem: problem)
        }
    }

    /// swift-certificates throws its own errors; ours name the file.
    private static func wrap<T>(_ path: String, _ body: () throws -> T) throws(HomeCertificateError) -> T {
        do {
            return try body()
        } catch {
            throw .cannotWrite(path: path, reason: "\(error)")
        }
    }

    static func path(_ directory: String, _ file: String) -> String {
        directory.hasSuffix("/") ? directory + file : directory + "/" + file
    }

    private static func days(_ count: Int) -> TimeInterval { TimeInterval(count) * 86_400 }
}

/// A server or client certificate in the directory.
public struct IssuedCertificate: Sendable, Hashable {
    public var certificatePath: String
    public var keyPath: String
    public var commonName: String
    /// Host names and IP addresses, as text; empty for a client.
    public var subjectAlternativeNames: [String]
    public var notValidAfter: Date

    init(_ certificate: Certificate, certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.commonName = certificate.subject.commonName ?? ""
        self.notValidAfter = certificate.notValidAfter
        let names = (try? certificate.extensions.subjectAlternativeNames) ?? nil
        self.subjectAlternativeNames = (names ?? SubjectAlternativeNames()).compactMap { name in
            switch name {
            case .dnsName(let host): host
            case .ipAddress(let octets): IPAddress(bytes: Array(octets.bytes))?.description
            default: nil
            }
        }
    }
}

extension DistinguishedName {
    /// The first common name, as Mosquitto's `use_identity_as_username` reads it.
    var commonName: String? {
        for relativeName in self {
            for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                return String(attribute.value)
            }
        }
        return nil
    }
}
