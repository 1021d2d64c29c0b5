import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A certificate or key file named in the configuration, read whole, whose
/// errors say which option named it and what is wrong with it.
///
/// NIOSSL's own file loading reports only "failed to load"; a maker whose
/// broker does not start deserves to know that the key was given as the
/// certificate, or that the file is DER, or unreadable by the daemon's user.
struct PEMFile {
    let option: String
    let path: String
    let bytes: [UInt8]

    /// Larger than any certificate bundle a home needs (the system's is ~200 kB).
    static let maximumSize = 4 * 1024 * 1024

    init(option: String, path: String) throws(TLSSetupError) {
        self.option = option
        self.path = path
        switch Self.contents(of: path) {
        case .success(let bytes): self.bytes = bytes
        case .failure(let problem): throw .unusableFile(option: option, path: path, problem: problem)
        }
    }

    /// Every certificate in the file, in order (a chain starts with the leaf).
    func certificates() throws(TLSSetupError) -> [NIOSSLCertificate] {
        try requirePEM()
        guard contains(Self.certificateMarker) else { throw unusable(.noCertificate) }
        let certificates = (try? NIOSSLCertificate.fromPEMBytes(bytes)) ?? []
        guard !certificates.isEmpty else { throw unusable(.invalidCertificate) }
        return certificates
    }

    /// The private key in the file.
    func privateKey() throws(TLSSetupError) -> NIOSSLPrivateKey {
        try requirePEM()
        if Self.isEncryptedKey(bytes) { throw unusable(.encryptedKey) }
        guard contains(Self.keyMarker) else { throw unusable(.noPrivateKey) }
        guard let key = try? NIOSSLPrivateKey(bytes: bytes, format: .pem) else { throw unusable(.invalidKey) }
        return key
    }

    private func requirePEM() throws(TLSSetupError) {
        guard contains(Self.pemMarker) else { throw unusable(.notPEM) }
    }

    private func unusable(_ problem: TLSSetupError.FileProblem) -> TLSSetupError {
        .unusableFile(option: option, path: path, problem: problem)
    }

    private func contains(_ marker: String) -> Bool {
        Self.contains(marker, in: bytes)
    }

    // The markers that tell a certificate from a key from something else,
    // for every reader of PEM files (NIOSSL's here, swift-certificates' in
    // `HomeCertificateAuthority`).
    static let pemMarker = "-----BEGIN "
    static let certificateMarker = "-----BEGIN CERTIFICATE-----"
    static let keyMarker = "PRIVATE KEY-----"

    /// OpenSSL's two ways of marking a passphrase: PKCS#8 and the legacy header.
    static func isEncryptedKey(_ bytes: [UInt8]) -> Bool {
        contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", in: bytes) || contains("Proc-Type: 4,ENCRYPTED", in: bytes)
    }

    static func contains(_ marker: String, in bytes: [UInt8]) -> Bool {
        bytes.firstRange(of: Array(marker.utf8)) != nil
    }

    /// The bytes of a file, or why they cannot be had.
    static func contents(of path: String) -> Result<[UInt8], TLSSetupError.FileProblem> {
        POSIXFile.read(path, limit: maximumSize).mapError { failure in
            switch failure {
            case .cannotOpen(let code) where code == ENOENT: .missing
            case .cannotOpen(let code), .cannotRead(let code): .unreadable(systemReason(code))
            case .tooLarge: .unreadable("larger than \(maximumSize / 1024 / 1024) MiB, which no certificate file is")
            }
        }
    }
}
