/// One problem found while loading devices and rules.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.location = location
        self.message = message
    }

    /// `path:line:column: error: message`, the form compilers use.
    public var description: String { "\(location): error: \(message)" }

    /// `path:line:column: message`, for where the line already says it is an
    /// error (a log line at level error, an `error` event).
    public var locatedMessage: String { "\(location): \(message)" }
}

/// Every problem found in one load, in file and line order.
///
/// The loader collects all of them rather than stopping at the first, so one
/// run of `homerules rules check` shows everything there is to fix.
public struct DiagnosticList: Error, Sendable, Hashable, CustomStringConvertible {
    public private(set) var diagnostics: [Diagnostic]

    /// Sorts by place; diagnostics at the same place keep their order.
    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics.enumerated()
            .sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
            .map(\.element)
    }

    /// One line per diagnostic.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    /// One line per diagnostic, each without its "error:".
    public var locatedMessages: String { diagnostics.map(\.locatedMessage).joined(separator: "\n") }
}

/// Collects diagnostics while a loader walks the files.
/// Gathers diagnostics while reading; see `YAMLReader`.
public struct DiagnosticCollector: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public var isEmpty: Bool { diagnostics.isEmpty }

    public mutating func error(_ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(message, at: location))
    }
}
