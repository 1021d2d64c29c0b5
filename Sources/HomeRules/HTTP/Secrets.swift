import Foundation
import Rules

/// The values `{{ secrets.<name> }}` stands for in `http` actions: tokens,
/// passwords, private webhook URLs.
///
/// Read from a YAML file of names and values (Home Assistant's
/// `secrets.yaml`), or, for a name the file does not have, from the
/// environment variable of that name (systemd's `EnvironmentFile=` or
/// `LoadCredential=`). Read once, when `serve` starts. Values never reach the
/// engine: it renders a secret as its name, and the request is filled in
/// only as it is sent.
public struct Secrets: Sendable {
    private let values: [String: String]
    private let environment: [String: String]
    /// The file read, for messages; nil when there was none.
    public let file: String?

    public init(values: [String: String] = [:], environment: [String: String] = [:], file: String? = nil) {
        self.values = values
        self.environment = environment
        self.file = file
    }

    /// The secret's value, from the file, else the environment.
    public func value(_ name: String) -> String? {
        values[name] ?? environment[name]
    }

    /// The names the file defines, sorted.
    public var names: [String] { values.keys.sorted() }

    /// Reads `path`: a mapping of names to text. A missing file is no
    /// secrets unless `required` (named on purpose); what is wrong with the
    /// file is reported at its line and column.
    public static func load(
        file path: String, required: Bool, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Result<Secrets, DiagnosticList> {
        guard let data = FileManager.default.contents(atPath: path) else {
            guard required || FileManager.default.fileExists(atPath: path) else {
                return .success(Secrets(environment: environment))
            }
            return .failure(DiagnosticList([Diagnostic("cannot read the secrets file", at: SourceLocation(path: path, line: 1, column: 1))]))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let location = HomeLoader.invalidUTF8Location(in: data, path: path)
            return .failure(DiagnosticList([Diagnostic(HomeLoader.invalidUTF8Message, at: location)]))
        }
        var reader = YAMLReader(path: path)
        var values: [String: String] = [:]
        for document in reader.documents(of: text) {
            guard let mapping = reader.mapping(document, as: "the secrets", allowed: nil) else { continue }
            for entry in mapping.entries {
                guard let value = reader.text(entry.value, for: entry.key) else { continue }
                values[entry.key] = value
            }
        }
        guard reader.diagnostics.isEmpty else { return .failure(DiagnosticList(reader.diagnostics.diagnostics)) }
        return .success(Secrets(values: values, environment: environment, file: path))
    }

    /// The home, or an error at each rule that uses a secret this has no
    /// value for: found when the rules load, not when the request goes out.
    public func check(_ home: Home) -> Result<Home, DiagnosticList> {
        let source = file.map { "neither in \($0) nor in the environment" } ?? "not in the environment, and there is no secrets file"
        var seen: Set<[String]> = []
        let missing = home.secretsUsed.filter { value($0.secret) == nil && seen.insert([$0.rule.id, $0.secret]).inserted }
        guard !missing.isEmpty else { return .success(home) }
        return .failure(DiagnosticList(missing.map {
            Diagnostic("rule '\($0.rule.id)' uses secret '\($0.secret)', which is \(source)", at: $0.rule.location)
        }))
    }
}
