import Foundation
import MQTTTopics
import Yams

/// One YAML source: the path to show in diagnostics, and its text.
public struct SourceFile: Sendable, Hashable {
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}

/// The keys of one YAML mapping, with their nodes for error locations.
public struct YAMLMapping {
    public struct Entry {
        public var key: String
        public var keyNode: Node
        public var value: Node
    }

    public let node: Node
    public let entries: [Entry]

    /// The value of `key`, if present.
    public subscript(key: String) -> Node? { entries.first { $0.key == key }?.value }

    func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }

    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }
}

/// Reads YAML nodes of one file into values, recording a diagnostic with the
/// node's line and column for everything it cannot read. Each reading method
/// returns nil after recording its diagnostic, so callers go on and find
/// further errors instead of stopping.
///
/// Public so that other YAML files of HomeRules (the `serve` configuration)
/// report errors the same way as device and rule files.
public struct YAMLReader {
    public let path: String
    public var diagnostics = DiagnosticCollector()

    public init(path: String) {
        self.path = path
    }

    func location(_ node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(path: path, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// Records an error at the node's line and column.
    public mutating func error(_ message: String, at node: Node) {
        diagnostics.error(message, at: location(node))
    }

    mutating func error(_ message: String, line: Int, column: Int) {
        diagnostics.error(message, at: SourceLocation(path: path, line: line, column: column))
    }

    // MARK: Documents

    /// The documents of a file (several when separated by `---`); a syntax
    /// error, or a file beyond `YAMLBounds`, ends the file with one
    /// diagnostic.
    public mutating func documents(of text: String) -> [Node] {
        if let violation = YAMLBounds.violation(in: text) {
            error(violation.message, line: violation.line, column: violation.column)
            return []
        }
        var nodes: [Node] = []
        do {
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() { nodes.append(node) }
        } catch let failure as YamlError {
            record(failure, in: text)
        } catch {
            self.error("cannot read YAML: \(error)", line: 1, column: 1)
        }
        return nodes
    }

    private mutating func record(_ failure: YamlError, in text: String) {
        switch failure {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            // libyaml stops at 1,000 levels while it looks ahead, before the bound can see them.
            if problem.hasPrefix("Maximum nesting level reached") {
                error(YAMLBounds.tooDeepMessage(countingAliases: false), line: mark.line, column: mark.column)
                return
            }
            let during = context.map { " (\($0.text), line \($0.mark.line) column \($0.mark.column))" } ?? ""
            error("invalid YAML: \(problem)\(during)", line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.sorted().first ?? ""
            let first = context.mark
            let repeated = Self.repetition(of: key, after: first, in: text) ?? (first.line, first.column)
            error("the key '\(key)' appears twice in the same mapping (first at line \(first.line))",
                  line: repeated.line, column: repeated.column)
        case .reader(let problem, let offset, _, _):
            let (line, column) = Self.lineAndColumn(ofScalarOffset: offset ?? 0, in: text)
            error("cannot read the file: \(problem)", line: line, column: column)
        default:
            error("cannot read YAML: \(failure)", line: 1, column: 1)
        }
    }

    /// Where `key` comes again in a block mapping: the next line that has
    /// it at the first one's column. libyaml reports only the first.
    private static func repetition(of key: String, after first: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line < lines.count else { return nil }
        for number in first.line..<lines.count {
            let line = lines[number].unicodeScalars
            guard line.count >= first.column else { continue }
            let rest = String(String.UnicodeScalarView(line.dropFirst(first.column - 1)))
            let indentation = line.prefix(first.column - 1)
            guard indentation.allSatisfy({ $0 == " " || $0 == "-" }), rest.hasPrefix(key) else { continue }
            if rest.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                return (number + 1, first.column)
            }
        }
        return nil
    }

    private static func lineAndColumn(ofScalarOffset offset: Int, in text: String) -> (Int, Int) {
        var line = 1, column = 1
        for scalar in text.unicodeScalars.prefix(offset) {
            if scalar == "\n" { (line, column) = (line + 1, 1) } else { column += 1 }
        }
        return (line, column)
    }

    // MARK: Shapes

    /// `a mapping`, `a list`, `a text value`: for "expected ..., found ..." messages.
    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(let scalar): isNull(scalar) ? "nothing" : "'\(scalar.string)'"
        case .alias: "an alias"
        }
    }

    static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node { return isNull(scalar) }
        return false
    }

    /// Reads a mapping and checks that its keys are among `allowed` (any
    /// text key when nil).
    public mutating func mapping(_ node: Node, as what: String, allowed: [String]?) -> YAMLMapping? {
        guard case .mapping(let mapping) = node else {
            error("expected a mapping for \(what), found \(Self.kind(of: node))", at: node)
            return nil
        }
        var entries: [YAMLMapping.Entry] = []
        for (key, value) in pairs(of: mapping) {
            guard case .scalar(let scalar) = key else {
                error("a key in \(what) must be text, found \(Self.kind(of: key))", at: key)
                continue
            }
            guard allowed?.contains(scalar.string) ?? true else {
                error("unknown key '\(scalar.string)' in \(what)\(Suggestion.didYouMean(scalar.string, among: allowed ?? []))", at: key)
                continue
            }
            entries.append(.init(key: scalar.string, keyNode: key, value: value))
        }
        return YAMLMapping(node: node, entries: entries)
    }

    /// The key-value pairs of a mapping with YAML merge keys expanded:
    /// `<<: *defaults` (or a list of aliases) adds the keys of those
    /// mappings that the mapping does not set itself.
    mutating func pairs(of mapping: Node.Mapping) -> [(key: Node, value: Node)] {
        var explicit: [(key: Node, value: Node)] = []
        var merged: [(key: Node, value: Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, scalar.style == .plain, scalar.string == "<<" else {
                explicit.append((key, value))
                continue
            }
            for source in items(value) {
                guard case .mapping(let sourceMapping) = source else {
                    error("'<<' merges mappings, found \(Self.kind(of: source))", at: source)
                    continue
                }
                merged += pairs(of: sourceMapping)
            }
        }
        let explicitKeys = Set(explicit.compactMap { $0.key.scalar?.string })
        var seen = explicitKeys
        for pair in merged {
            guard let name = pair.key.scalar?.string else { continue }
            if seen.insert(name).inserted { explicit.append(pair) }
        }
        return explicit
    }

    /// A list's items; a single item that is not a list counts as a list of one.
    public func items(_ node: Node) -> [Node] {
        if case .sequence(let sequence) = node { return Array(sequence) }
        return Self.isNull(node) ? [] : [node]
    }

    // MARK: Scalars

    /// A scalar's text; anything else is an error.
    public mutating func text(_ node: Node, for key: String) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(scalar) else {
            error("expected text for '\(key)', found \(Self.kind(of: node))", at: node)
            return nil
        }
        return scalar.string
    }

    mutating func required(_ mapping: YAMLMapping, _ key: String, in what: String) -> Node? {
        guard let node = mapping[key] else {
            error("\(what) needs '\(key)'", at: mapping.node)
            return nil
        }
        return node
    }

    public mutating func number(_ node: Node, for key: String) -> Double? {
        guard let text = text(node, for: key) else { return nil }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            error("expected a number for '\(key)', found '\(text)'", at: node)
            return nil
        }
        return value
    }

    /// A whole number within `range`.
    public mutating func integer(_ node: Node, for key: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = text(node, for: key) else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            error("expected a whole number from \(range.lowerBound) to \(range.upperBound) for '\(key)', found '\(text)'", at: node)
            return nil
        }
        return value
    }

    /// `true`/`false` (also `yes`/`no`, `on`/`off`).
    public mutating func bool(_ node: Node, for key: String) -> Bool? {
        guard let text = text(node, for: key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error("expected true or false for '\(key)', found '\(text)'", at: node)
            return nil
        }
    }

    /// A duration such as `30s`, `5m`, `1h30m`.
    public mutating func duration(_ node: Node, for key: String) -> Duration? {
        guard let text = text(node, for: key) else { return nil }
        guard let duration = DurationSyntax.parse(text) else {
            error("invalid duration '\(text)' for '\(key)': \(DurationSyntax.help)", at: node)
            return nil
        }
        return duration
    }

    mutating func identifier(_ node: Node, for key: String) -> String? {
        guard let text = text(node, for: key) else { return nil }
        guard Identifier.isValid(text) else {
            error("invalid \(key) '\(text)': \(Identifier.help)", at: node)
            return nil
        }
        return text
    }

    /// A text value, or a list of them.
    mutating func texts(_ node: Node, for key: String) -> [String]? {
        let values = items(node).map { text($0, for: key) }
        guard !values.isEmpty else {
            error("expected text or a list of text for '\(key)', found nothing", at: node)
            return nil
        }
        return values.contains(nil) ? nil : values.compactMap { $0 }
    }

    mutating func topicName(_ node: Node, for key: String) -> String? {
        guard let topic = text(node, for: key) else { return nil }
        if let problem = TopicFilter.problem(name: topic) {
            error("invalid topic '\(topic)' for '\(key)': \(problem)", at: node)
            return nil
        }
        return topic
    }

    mutating func jsonPath(_ node: Node, for key: String) -> JSONPath? {
        guard let text = text(node, for: key) else { return nil }
        guard let path = JSONPath(text) else {
            error("invalid JSON path '\(text)' for '\(key)': \(JSONPath.help)", at: node)
            return nil
        }
        return path
    }

    mutating func template(_ node: Node, for key: String) -> Template? {
        guard case .scalar(let scalar) = node else {
            error("expected text for '\(key)', found \(Self.kind(of: node))", at: node)
            return nil
        }
        do {
            return try Template(parsing: scalar.string)
        } catch {
            self.error("invalid template for '\(key)': \(error.message)", at: node)
            return nil
        }
    }
}
