import MQTT
import MQTTTopics

/// Mosquitto's `acl_file`: which topics each client may publish to and
/// receive from, with Mosquitto 2.0's semantics (see docs/security.md).
///
/// - Rules before the first `user` line are the anonymous clients' own rules.
/// - `user NAME` starts that user's own rules (several blocks for one name add up).
/// - `pattern` rules apply to every client, anonymous ones included, with
///   `%c` replaced by the client id and `%u` by the user name; a pattern with
///   `%u` never applies to an anonymous client.
/// - A client's own rules are checked first: a matching `deny` refuses, else
///   a matching grant allows. Then the patterns, the same way. Nothing
///   matching refuses. So a `deny` beats any grant of its own kind, but a
///   pattern `deny` does not take back what the user's own rules grant.
/// - A client whose id or user name holds `+` or `#` gets nothing from
///   patterns, which it could otherwise widen.
///
/// Checking is meant for every message: `permissions(for:)` compiles the
/// rules of one client once (at CONNECT, and again after a reload), and its
/// checks do not allocate.
public struct AccessControlList: Sendable {
    /// Problems that do not stop the file from being used, such as a
    /// pattern without `%c` or `%u`.
    public let warnings: [AuthFileDiagnostic]

    private let anonymousRules: ClientPermissions.RuleGroup?
    private let userRules: [String: ClientPermissions.RuleGroup]
    private let patterns: [PatternRule]

    /// Reads the file at `path`.
    public static func load(path: String) throws(AuthFileError) -> AccessControlList {
        try AccessControlList(parsing: AuthFileIO.read(path: path), path: path)
    }

    /// Reads a file's text; `path` is for the errors and warnings.
    public init(parsing text: String, path: String) throws(AuthFileError) {
        let (statements, errors, warnings) = AccessControlListSyntax.statements(of: text, path: path)
        guard errors.isEmpty else { throw AuthFileError(errors) }
        var anonymous = ClientPermissions.RuleGroup()
        var users: [String: ClientPermissions.RuleGroup] = [:]
        var patterns = [PatternRule]()
        var currentUser: String?
        for statement in statements {
            switch statement {
            case .user(let name):
                currentUser = name
            case .rule(.topic, let access, let filter):
                if let currentUser {
                    users[currentUser, default: ClientPermissions.RuleGroup()].add(TopicFilter(compiling: filter), access)
                } else {
                    anonymous.add(TopicFilter(compiling: filter), access)
                }
            case .rule(.pattern, let access, let filter):
                patterns.append(PatternRule(filter, access: access))
            }
        }
        self.anonymousRules = anonymous.isEmpty ? nil : anonymous
        self.userRules = users
        self.patterns = patterns
        self.warnings = warnings
    }

    /// The rules that apply to `client`, compiled for fast checking.
    public func permissions(for client: ClientIdentity) -> ClientPermissions {
        let own: ClientPermissions.RuleGroup? = if let username = client.username { userRules[username] } else { anonymousRules }
        // Mosquitto refuses any substitution of a name that holds a wildcard.
        if !patterns.isEmpty && (Topic.isWildcard(client.clientID) || client.username.map(Topic.isWildcard) == true) {
            return ClientPermissions(own: own, patterns: nil)
        }
        var group = ClientPermissions.RuleGroup()
        for pattern in patterns {
            guard let filter = pattern.filter(for: client) else { continue }
            group.add(TopicFilter(compiling: filter), pattern.access)
        }
        return ClientPermissions(own: own, patterns: group)
    }

    /// Whether `client` may publish to `topic`. For one-off checks; the
    /// broker keeps `permissions(for:)` per connection instead.
    public func mayPublish(topic: String, client: ClientIdentity) -> Bool {
        permissions(for: client).mayPublish(topic: topic)
    }

    /// Whether a message on `topic` may be delivered to `client`.
    public func mayReceive(topic: String, client: ClientIdentity) -> Bool {
        permissions(for: client).mayReceive(topic: topic)
    }

    /// Whether a subscription to `filter` could deliver anything to `client`;
    /// see `ClientPermissions.maySubscribe(filter:)`.
    public func maySubscribe(filter: String, client: ClientIdentity) -> Bool {
        permissions(for: client).maySubscribe(filter: filter)
    }
}

/// A `pattern` rule before `%c` and `%u` are replaced.
private struct PatternRule: Sendable {
    enum Part: Sendable {
        case text(String)
        case clientID
        case username
    }

    let parts: [Part]
    let access: RuleAccess
    let usesUsername: Bool

    /// Splits at `%c` and `%u`, scanning left to right as Mosquitto does
    /// (so `%%c` is a `%` and then the client id).
    init(_ filter: String, access: RuleAccess) {
        var parts = [Part]()
        var text = ""
        var scalars = filter.unicodeScalars.makeIterator()
        var pending = scalars.next()
        while let scalar = pending {
            pending = scalars.next()
            guard scalar == "%", let next = pending, next == "c" || next == "u" else {
                text.unicodeScalars.append(scalar)
                continue
            }
            if !text.isEmpty { parts.append(.text(text)) }
            text = ""
            parts.append(next == "c" ? .clientID : .username)
            pending = scalars.next()
        }
        if !text.isEmpty { parts.append(.text(text)) }
        self.parts = parts
        self.access = access
        self.usesUsername = parts.contains { if case .username = $0 { true } else { false } }
    }

    /// The filter for `client`; nil when the pattern needs a user name and
    /// the client has none. A name with `/` spans levels, as in Mosquitto.
    func filter(for client: ClientIdentity) -> String? {
        if usesUsername && client.username == nil { return nil }
        return parts.map { part in
            switch part {
            case .text(let text): text
            case .clientID: client.clientID
            case .username: client.username ?? ""
            }
        }.joined()
    }
}
