/// A problem in a password or ACL file, at the place an editor can jump to.
public struct AuthFileDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        /// The file is refused.
        case error
        /// The file is used, but probably does not say what its author meant.
        case warning
    }

    public var severity: Severity
    /// The path as the configuration gave it.
    public var path: String
    /// 1-based; nil when the problem is the file as a whole (it cannot be read).
    public var line: Int?
    /// 1-based, in Unicode scalars; nil when the whole line is at fault.
    public var column: Int?
    public var message: String

    public init(_ severity: Severity, path: String, line: Int?, column: Int? = nil, message: String) {
        self.severity = severity
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// `path:line:column: error: message`, as compilers and `homerules rules check` print.
    public var description: String {
        var location = path
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        return "\(location): \(severity.rawValue): \(message)"
    }
}

/// A password or ACL file that cannot be used: every error found in it.
public struct AuthFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The errors, in file order; never empty.
    public var diagnostics: [AuthFileDiagnostic]

    public init(_ diagnostics: [AuthFileDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
