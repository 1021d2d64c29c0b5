/// `http`: a request to a web service (ntfy, Gotify, Telegram, any
/// webhook), with templates, and secrets that only the request sees.
public struct HTTPAction: Sendable, Hashable, Codable {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    public var method: String
    public var url: Template
    public var headers: [HTTPHeaderTemplate]
    public var body: Template?
    /// For each attempt: connecting, sending and reading the answer.
    public var timeout: Duration
    /// Attempts after the first one fails (no answer, or 5xx or 429).
    public var retries: Int
    /// For `https`: the certificate authority to trust instead of the
    /// system's (a self-hosted service with the home's own certificates).
    public var cafile: String?

    public static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    public static let defaultTimeout = Duration.seconds(10)
    public static let maximumTimeout = Duration.seconds(300)
    public static let maximumRetries = 10

    public init(
        method: String, url: Template, headers: [HTTPHeaderTemplate] = [], body: Template? = nil,
        timeout: Duration = HTTPAction.defaultTimeout, retries: Int = 2, cafile: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.retries = retries
        self.cafile = cafile
    }

    /// The names of the secrets the request uses (`{{ secrets.name }}`).
    public var secretNames: [String] {
        ([url] + headers.map(\.value) + [body].compactMap { $0 }).flatMap(\.variables)
            .filter { $0.count == 2 && $0[0] == SecretText.root }.map { $0[1] }
    }
}

/// A header of an `http` action: its value is a template.
public struct HTTPHeaderTemplate: Sendable, Hashable, Codable {
    public var name: String
    public var value: Template

    public init(name: String, value: Template) {
        self.name = name
        self.value = value
    }
}

/// Text rendered by the engine in which secrets are still names: the daemon
/// fills them in as it sends the request, and everything that is logged or
/// shown reads them as `***`.
public struct SecretText: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Part: Sendable, Hashable, Codable {
        case text(String)
        case secret(String)
    }

    /// The template root whose variables are secrets: `{{ secrets.token }}`.
    public static let root = "secrets"

    public var parts: [Part]

    public init(parts: [Part]) {
        self.parts = parts
    }

    public init(_ text: String) {
        parts = [.text(text)]
    }

    /// The text with each secret as `***`: what logs and events show.
    public var description: String {
        parts.map { if case .text(let text) = $0 { text } else { "***" } }.joined()
    }

    /// The text with each secret's value; nil when one has none.
    public func revealed(by secret: (String) -> String?) -> String? {
        var result = ""
        for part in parts {
            switch part {
            case .text(let text): result += text
            case .secret(let name):
                guard let value = secret(name) else { return nil }
                result += value
            }
        }
        return result
    }
}

/// An `http` action rendered, for the daemon to send.
public struct HTTPRequest: Sendable, Hashable, Codable {
    public struct Header: Sendable, Hashable, Codable {
        public var name: String
        public var value: SecretText

        public init(name: String, value: SecretText) {
            self.name = name
            self.value = value
        }
    }

    /// The rule whose action this is.
    public var rule: String
    public var method: String
    public var url: SecretText
    public var headers: [Header]
    public var body: SecretText?
    public var timeout: Duration
    public var retries: Int
    public var cafile: String?

    public init(
        rule: String, method: String, url: SecretText, headers: [Header] = [], body: SecretText? = nil,
        timeout: Duration = HTTPAction.defaultTimeout, retries: Int = 0, cafile: String? = nil
    ) {
        self.rule = rule
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.retries = retries
        self.cafile = cafile
    }

    /// `POST https://ntfy.sh/***`: the request as logs show it.
    public var summary: String { "\(method) \(url)" }
}

extension Home {
    /// Every secret a rule's `http` actions use, with the rule, in rule order.
    public var secretsUsed: [(secret: String, rule: Rule)] {
        rules.flatMap { rule in
            (rule.actions + rule.otherwise).flatMap { action -> [(secret: String, rule: Rule)] in
                guard case .http(let request) = action else { return [] }
                return request.secretNames.map { ($0, rule) }
            }
        }
    }
}
