/// Mosquitto's `password_file`: one `user:hash` line per user.
///
/// Files made by `mosquitto_passwd` (any version) are read unchanged, and
/// files written here are read by Mosquitto 2.0: PBKDF2-SHA512 with 101
/// iterations and a 12-byte salt, as `mosquitto_passwd` 2.0 writes.
/// Comments and blank lines survive a rewrite. See docs/security.md.
public struct PasswordFile: Sendable {
    /// The outcome of checking a user name and password.
    public enum Verification: Sendable, Hashable {
        case accepted
        case unknownUser
        case wrongPassword
    }

    /// One user's line.
    public struct Entry: Sendable, Hashable {
        public var username: String
        public var hash: PasswordHash

        public init(username: String, hash: PasswordHash) {
            self.username = username
            self.hash = hash
        }
    }

    /// Why a user name cannot go into the file (the checks of `mosquitto_passwd`,
    /// and blanks at the ends, which reading the file would drop).
    public enum UsernameError: Error, Sendable, Hashable, CustomStringConvertible {
        case empty
        case tooLong
        case containsColon
        case containsControlCharacter
        case blankAtEnd
        case startsWithHash

        public var description: String {
            switch self {
            case .empty: "the user name is empty"
            case .tooLong: "the user name is longer than 65535 bytes"
            case .containsColon: "the user name must not contain ':'"
            case .containsControlCharacter: "the user name must not contain control characters"
            case .blankAtEnd: "the user name must not start or end with a blank"
            case .startsWithHash: "the user name must not start with '#', which makes its line a comment"
            }
        }
    }

    private enum Line: Sendable {
        case verbatim(String)
        case entry(Entry)
    }

    private var lines: [Line] = []
    /// Where each user's entry is in `lines`.
    private var lineOfUser: [String: Int] = [:]

    /// An empty file.
    public init() {}

    /// Reads the file at `path`.
    public static func load(path: String) throws(AuthFileError) -> PasswordFile {
        try PasswordFile(parsing: AuthFileIO.read(path: path), path: path)
    }

    /// Reads a file's text; `path` is for the errors, which name every bad line.
    public init(parsing text: String, path: String) throws(AuthFileError) {
        let (scanned, syntaxErrors) = PasswordFileSyntax.lines(of: text, path: path)
        var errors = syntaxErrors
        var firstLine: [String: Int] = [:]
        for line in scanned {
            switch line {
            case .verbatim(let text):
                lines.append(.verbatim(text))
            case .entry(let username, let value, let number, let column):
                if let earlier = firstLine[username] {
                    errors.append(
                        AuthFileDiagnostic(
                            .error, path: path, line: number, column: 1,
                            message: "user '\(username)' is already defined on line \(earlier)"))
                    continue
                }
                firstLine[username] = number
                do {
                    append(Entry(username: username, hash: try PasswordHash(encoded: value)))
                } catch {
                    errors.append(
                        AuthFileDiagnostic(.error, path: path, line: number, column: column, message: "user '\(username)': \(error)"))
                }
            }
        }
        guard errors.isEmpty else { throw AuthFileError(errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) }) }
    }

    /// The users, in file order.
    public var entries: [Entry] {
        lines.compactMap { line in
            if case .entry(let entry) = line { entry } else { nil }
        }
    }

    public var usernames: [String] { entries.map(\.username) }

    public var isEmpty: Bool { lineOfUser.isEmpty }

    /// The hash stored for `username`.
    public func hash(for username: String) -> PasswordHash? {
        guard let index = lineOfUser[username], case .entry(let entry) = lines[index] else { return nil }
        return entry.hash
    }

    /// Checks a CONNECT's user name and password (the raw bytes it carried).
    ///
    /// An unknown user costs as much time as a known one, so that timing
    /// does not tell which user names exist.
    public func verify(username: String, password: some Collection<UInt8>) -> Verification {
        guard let hash = hash(for: username) else {
            _ = Self.decoy.matches(password: password)
            return .unknownUser
        }
        return hash.matches(password: password) ? .accepted : .wrongPassword
    }

    /// Hashed once, checked against for unknown users.
    private static let decoy = PasswordHash(
        password: [UInt8](), scheme: PasswordHash.defaultScheme, salt: [UInt8](repeating: 0, count: PasswordHash.defaultSaltLength))

    /// Adds `username`, or replaces its password where it stands in the file.
    public mutating func set(
        username: String, password: some Collection<UInt8>, scheme: PasswordHash.Scheme = PasswordHash.defaultScheme
    ) throws(UsernameError) {
        try set(Entry(username: username, hash: PasswordHash(password: password, scheme: scheme)))
    }

    /// Adds or replaces an entry with a hash made elsewhere.
    public mutating func set(_ entry: Entry) throws(UsernameError) {
        try Self.validate(username: entry.username)
        if let index = lineOfUser[entry.username] {
            lines[index] = .entry(entry)
        } else {
            append(entry)
        }
    }

    /// Removes `username`; false when it was not in the file.
    @discardableResult
    public mutating func remove(username: String) -> Bool {
        guard let index = lineOfUser.removeValue(forKey: username) else { return false }
        lines.remove(at: index)
        for (user, position) in lineOfUser where position > index { lineOfUser[user] = position - 1 }
        return true
    }

    /// The file's text: comments and blank lines as they were, one
    /// `user:hash` line per user, each line ending in a line feed.
    public func rendered() -> String {
        lines.map { line in
            switch line {
            case .verbatim(let text): text + "\n"
            case .entry(let entry): "\(entry.username):\(entry.hash.encoded)\n"
            }
        }.joined()
    }

    /// Writes the file atomically. A new file is readable and writable by
    /// its owner only (mode 0600): it holds password hashes. A file already
    /// there must be writable, as `mosquitto_passwd` requires, and keeps its
    /// owner and mode.
    public func write(to path: String) throws(AuthFileError) {
        try AuthFileIO.write(rendered(), to: path, mode: 0o600)
    }

    /// Checks that `username` survives being written and read back.
    public static func validate(username: String) throws(UsernameError) {
        guard let first = username.unicodeScalars.first, let last = username.unicodeScalars.last else { throw .empty }
        guard username.utf8.count <= 65_535 else { throw .tooLong }
        guard !username.unicodeScalars.contains(":") else { throw .containsColon }
        guard !username.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .containsControlCharacter
        }
        guard !first.isMosquittoBlank, !last.isMosquittoBlank else { throw .blankAtEnd }
        guard first != "#" else { throw .startsWithHash }
    }

    /// A plain-text file made into a hashed one (`homerules passwd -U`).
    public struct Upgrade: Sendable {
        public var file: PasswordFile
        /// The users whose plain-text password was hashed, in file order.
        public var hashedUsers: [String]
        /// The users whose line already held a hash, left as it was.
        public var alreadyHashed: [String]
    }

    /// Hashes the passwords of the plain-text file at `path`; see `upgrading(plainText:path:scheme:)`.
    public static func upgrading(path: String, scheme: PasswordHash.Scheme = PasswordHash.defaultScheme) throws(AuthFileError) -> Upgrade {
        try upgrading(plainText: AuthFileIO.read(path: path), path: path, scheme: scheme)
    }

    /// Hashes the passwords of a file of `user:password` lines.
    ///
    /// Unlike `mosquitto_passwd -U`, a line that already holds a valid hash
    /// is kept: upgrading twice does not hash the hash. The password is
    /// everything after the first `:`, without blanks at its ends (Mosquitto
    /// trims them too).
    public static func upgrading(
        plainText text: String, path: String, scheme: PasswordHash.Scheme = PasswordHash.defaultScheme
    ) throws(AuthFileError) -> Upgrade {
        let (scanned, syntaxErrors) = PasswordFileSyntax.lines(of: text, path: path)
        var errors = syntaxErrors
        var upgrade = Upgrade(file: PasswordFile(), hashedUsers: [], alreadyHashed: [])
        for line in scanned {
            switch line {
            case .verbatim(let text):
                upgrade.file.lines.append(.verbatim(text))
            case .entry(let username, let value, let number, _):
                if upgrade.file.lineOfUser[username] != nil {
                    errors.append(
                        AuthFileDiagnostic(.error, path: path, line: number, column: 1, message: "user '\(username)' is defined twice"))
                } else if let hash = try? PasswordHash(encoded: value) {
                    upgrade.file.append(Entry(username: username, hash: hash))
                    upgrade.alreadyHashed.append(username)
                } else {
                    upgrade.file.append(Entry(username: username, hash: PasswordHash(password: Array(value.utf8), scheme: scheme)))
                    upgrade.hashedUsers.append(username)
                }
            }
        }
        guard errors.isEmpty else { throw AuthFileError(errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) }) }
        return upgrade
    }

    private mutating func append(_ entry: Entry) {
        lineOfUser[entry.username] = lines.count
        lines.append(.entry(entry))
    }
}
