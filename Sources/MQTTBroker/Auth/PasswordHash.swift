import Crypto
import CryptoExtras

/// A salted password hash in Mosquitto's encoding, the part of a password
/// file line after `user:`.
///
/// - `$7$<iterations>$<salt>$<hash>`: PBKDF2-HMAC-SHA512, 64-byte hash
///   (Mosquitto 2.0, the default of its `mosquitto_passwd`).
/// - `$6$<salt>$<hash>`: SHA-512 of the password followed by the salt
///   (Mosquitto 1.6 and earlier, `mosquitto_passwd -H sha512`).
///
/// Salt and hash are base64. Mosquitto 2.0 writes and reads 12-byte salts;
/// Mosquitto 2.1 writes 64-byte salts. Both are read here.
public struct PasswordHash: Sendable, Hashable, CustomStringConvertible {
    /// How the hash was computed.
    public enum Scheme: Sendable, Hashable {
        /// `$6$`: one round of SHA-512 over password and salt. Fast, so weak
        /// against guessing; read for old files, written only on request.
        case sha512
        /// `$7$`: PBKDF2-HMAC-SHA512 with this many iterations.
        case pbkdf2SHA512(iterations: Int)
    }

    public let scheme: Scheme
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// What `mosquitto_passwd` 2.0 writes: PBKDF2 with 101 iterations.
    public static let defaultScheme = Scheme.pbkdf2SHA512(iterations: 101)
    /// The salt length `mosquitto_passwd` 2.0 writes, and the only one
    /// Mosquitto 2.0 reads.
    public static let defaultSaltLength = 12
    /// Salt lengths found in files from some Mosquitto: 12 (2.0), 64 (2.1).
    public static let knownSaltLengths: Set<Int> = [12, 64]
    /// SHA-512's output, the length of every hash in the file.
    public static let hashLength = 64
    /// `atoi` in Mosquitto bounds the iterations to a C int.
    public static let maximumIterations = Int(Int32.max)

    /// Why an encoded hash cannot be read.
    public enum SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Not `$6$...` or `$7$...`: possibly a password that was never hashed.
        case unknownScheme
        case wrongFieldCount(scheme: String, expected: Int, found: Int)
        case invalidIterations(String)
        case invalidBase64(field: String)
        case unusualSaltLength(Int)
        case wrongHashLength(Int)

        public var description: String {
            switch self {
            case .unknownScheme:
                "the password is not hashed as $7$ (PBKDF2-SHA512) or $6$ (SHA-512); "
                    + "hash a plain-text file with `homerules passwd -U FILE`"
            case .wrongFieldCount(let scheme, let expected, let found):
                "a $\(scheme)$ hash has \(expected) fields separated by '$', this one has \(found)"
            case .invalidIterations(let text):
                "the iteration count '\(text)' is not a number from 1 to \(PasswordHash.maximumIterations)"
            case .invalidBase64(let field):
                "the \(field) is not valid base64"
            case .unusualSaltLength(let length):
                "the salt is \(length) bytes; Mosquitto writes 12 (2.0) or 64 (2.1)"
            case .wrongHashLength(let length):
                "the hash is \(length) bytes, not the 64 of SHA-512"
            }
        }
    }

    /// Reads an encoded hash, such as `$7$101$<salt>$<hash>`.
    public init(encoded text: some StringProtocol) throws(SyntaxError) {
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        // "$7$a$b$c" splits into "", "7", "a", "b", "c".
        guard fields.count >= 2, fields[0].isEmpty else { throw .unknownScheme }
        let encodedSalt: Substring
        let encodedHash: Substring
        switch fields[1] {
        case "6":
            guard fields.count == 4 else { throw .wrongFieldCount(scheme: "6", expected: 2, found: fields.count - 2) }
            scheme = .sha512
            (encodedSalt, encodedHash) = (Substring(fields[2]), Substring(fields[3]))
        case "7":
            guard fields.count == 5 else { throw .wrongFieldCount(scheme: "7", expected: 3, found: fields.count - 2) }
            let iterationsText = String(fields[2])
            guard iterationsText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let iterations = Int(iterationsText), (1...Self.maximumIterations).contains(iterations)
            else { throw .invalidIterations(iterationsText) }
            scheme = .pbkdf2SHA512(iterations: iterations)
            (encodedSalt, encodedHash) = (Substring(fields[3]), Substring(fields[4]))
        default:
            throw .unknownScheme
        }
        guard let salt = Base64.decode(encodedSalt) else { throw .invalidBase64(field: "salt") }
        guard Self.knownSaltLengths.contains(salt.count) else { throw .unusualSaltLength(salt.count) }
        guard let hash = Base64.decode(encodedHash) else { throw .invalidBase64(field: "hash") }
        guard hash.count == Self.hashLength else { throw .wrongHashLength(hash.count) }
        self.salt = salt
        self.hash = hash
    }

    /// Hashes `password` with a fresh random salt.
    public init(
        password: some Collection<UInt8>, scheme: Scheme = Self.defaultScheme, saltLength: Int = Self.defaultSaltLength
    ) {
        var generator = SystemRandomNumberGenerator()  // a CSPRNG on every platform Swift supports
        let salt = (0..<saltLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.init(password: password, scheme: scheme, salt: salt)
    }

    /// Hashes `password` with the given salt: for tests and known vectors.
    public init(password: some Collection<UInt8>, scheme: Scheme, salt: [UInt8]) {
        self.scheme = scheme
        self.salt = salt
        self.hash = Self.digest(password: password, scheme: scheme, salt: salt)
    }

    /// The form in the password file.
    public var encoded: String {
        switch scheme {
        case .sha512: "$6$\(Base64.encode(salt))$\(Base64.encode(hash))"
        case .pbkdf2SHA512(let iterations): "$7$\(iterations)$\(Base64.encode(salt))$\(Base64.encode(hash))"
        }
    }

    public var description: String { encoded }

    /// Whether `password` hashes to this hash. Every byte is compared, so
    /// the time taken does not tell how much of a guess was right.
    public func matches(password: some Collection<UInt8>) -> Bool {
        let candidate = Self.digest(password: password, scheme: scheme, salt: salt)
        guard candidate.count == hash.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(candidate, hash) { difference |= left ^ right }
        return difference == 0
    }

    private static func digest(password: some Collection<UInt8>, scheme: Scheme, salt: [UInt8]) -> [UInt8] {
        switch scheme {
        case .sha512:
            var hasher = SHA512()
            hasher.update(data: Array(password))
            hasher.update(data: salt)
            return Array(hasher.finalize())
        case .pbkdf2SHA512(let iterations):
            // Mosquitto's iteration counts (101 by default) are far below the
            // 210,000 that the checked API insists on; the file decides.
            let key = try? KDF.Insecure.PBKDF2.deriveKey(
                from: Array(password), salt: salt, using: .sha512, outputByteCount: hashLength,
                unsafeUncheckedRounds: iterations)
            return key?.withUnsafeBytes { Array($0) } ?? []
        }
    }
}
