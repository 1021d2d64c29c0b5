import MQTT
import MQTTTopics

/// The lines of an ACL file, read exactly as Mosquitto 2.0 reads them:
///
/// - trailing blanks are dropped; a line whose first character is `#` is a
///   comment (an indented `#` is not, and is an error, as in Mosquitto);
/// - words are separated by spaces only (a tab inside a line is an error);
/// - `topic|pattern [read|write|readwrite|deny] FILTER`: without an access
///   word the rule grants both; with one word only, that word is the filter
///   (`topic read` grants read and write on the topic `read`, a warning here);
///   the filter is the rest of the line and may hold spaces;
/// - `user NAME`: the rest of the line is the name.
///
/// Every error is reported, not only the first.
enum AccessControlListSyntax {
    enum Statement {
        case user(String)
        case rule(kind: RuleKind, access: RuleAccess, filter: String)
    }

    enum RuleKind: String {
        case topic
        case pattern
    }

    /// The statements of a file, with every error and warning found in it.
    static func statements(
        of text: String, path: String
    ) -> (statements: [Statement], errors: [AuthFileDiagnostic], warnings: [AuthFileDiagnostic]) {
        var statements = [Statement]()
        var errors = [AuthFileDiagnostic]()
        var warnings = [AuthFileDiagnostic]()
        for (number, raw) in text.mosquittoLines() {
            var line = LineReader(raw, number: number, path: path)
            do {
                if let statement = try line.read() { statements.append(statement) }
            } catch {
                errors.append(error)
            }
            warnings += line.warnings
        }
        return (statements, errors, warnings)
    }

    /// One line's statement; its warnings are left in `warnings`.
    private struct LineReader {
        let line: ScalarLine
        let number: Int
        let path: String
        var warnings: [AuthFileDiagnostic] = []

        init(_ raw: ScalarLine, number: Int, path: String) {
            // Mosquitto drops trailing blanks (the line feed, a CR, spaces) before anything else.
            let end = raw.lastIndex { !$0.isMosquittoBlank }.map(raw.index(after:)) ?? raw.startIndex
            self.line = raw[..<end]
            self.number = number
            self.path = path
        }

        /// nil for a comment or a blank line.
        mutating func read() throws(AuthFileDiagnostic) -> Statement? {
            if line.first == "#" { return nil }
            var words = Words(line)
            guard let keyword = words.next() else { return nil }
            switch text(keyword) {
            case "user":
                guard let name = words.rest(), !name.isEmpty else {
                    throw diagnostic(.error, at: line.endIndex, "`user` needs a user name")
                }
                return .user(text(name))
            case RuleKind.topic.rawValue:
                return try readRule(.topic, &words)
            case RuleKind.pattern.rawValue:
                return try readRule(.pattern, &words)
            default:
                throw diagnostic(.error, at: keyword.lowerBound, Self.expectedStatement)
            }
        }

        private mutating func readRule(_ kind: RuleKind, _ words: inout Words) throws(AuthFileDiagnostic) -> Statement {
            guard let first = words.next() else {
                throw diagnostic(.error, at: line.endIndex, "`\(kind.rawValue)` needs a topic filter")
            }
            var access = RuleAccess.readWrite
            var filterRange = first
            if let rest = words.rest(), !rest.isEmpty {
                guard let parsed = RuleAccess(word: text(first)) else {
                    throw diagnostic(.error, at: first.lowerBound, "unknown access '\(text(first))'; expected read, write, readwrite or deny")
                }
                access = parsed
                filterRange = rest
            } else if RuleAccess(word: text(first)) != nil {
                warnings.append(
                    diagnostic(
                        .warning, at: first.lowerBound,
                        "'\(text(first))' is taken as the topic filter, with read and write access, as Mosquitto does; "
                            + "write `\(kind.rawValue) \(text(first)) FILTER` to give that access"))
            }
            let filter = text(filterRange)
            do {
                try Topic.validateFilter(filter)
            } catch {
                throw diagnostic(.error, at: filterRange.lowerBound, "invalid topic filter '\(filter)': \(error)")
            }
            let substitutes = filter.contains("%c") || filter.contains("%u")
            if kind == .topic && substitutes {
                warnings.append(
                    diagnostic(.warning, at: filterRange.lowerBound, "%c and %u are replaced in `pattern` lines only; here they are literal"))
            } else if kind == .pattern && !substitutes {
                warnings.append(
                    diagnostic(.warning, at: filterRange.lowerBound, "the pattern contains neither %c nor %u: it applies to every client alike"))
            }
            return .rule(kind: kind, access: access, filter: filter)
        }

        private static let expectedStatement =
            "expected `user NAME`, `topic [read|write|readwrite|deny] FILTER` or `pattern [read|write|readwrite|deny] FILTER`"

        private func text(_ range: Range<ScalarLine.Index>) -> String {
            String(Substring(line[range]))
        }

        private func diagnostic(
            _ severity: AuthFileDiagnostic.Severity, at index: ScalarLine.Index, _ message: String
        ) -> AuthFileDiagnostic {
            let column = line.distance(from: line.startIndex, to: index) + 1
            return AuthFileDiagnostic(severity, path: path, line: number, column: column, message: message)
        }
    }

    /// `strtok` with a space as the only separator, and the "rest of the
    /// line" that Mosquitto takes after the second word.
    private struct Words {
        let line: ScalarLine
        var position: ScalarLine.Index

        init(_ line: ScalarLine) {
            self.line = line
            self.position = line.startIndex
        }

        /// The next run of characters other than a space.
        mutating func next() -> Range<ScalarLine.Index>? {
            while position < line.endIndex && line[position] == " " { position = line.index(after: position) }
            guard position < line.endIndex else { return nil }
            let start = position
            while position < line.endIndex && line[position] != " " { position = line.index(after: position) }
            return start..<position
        }

        /// Everything after the separator that ended the last word, without
        /// blanks at its ends; nil when the last word ended the line.
        mutating func rest() -> Range<ScalarLine.Index>? {
            guard position < line.endIndex else { return nil }
            let rest = line[line.index(after: position)...].trimmingMosquittoBlanks()
            position = line.endIndex
            return rest.startIndex..<rest.endIndex
        }
    }
}

/// What a rule allows, or that it denies.
struct RuleAccess: OptionSet, Sendable, Hashable {
    let rawValue: UInt8

    static let read = RuleAccess(rawValue: 1)
    static let write = RuleAccess(rawValue: 2)
    static let readWrite: RuleAccess = [.read, .write]
    /// `deny`: matching topics are refused whatever other rules of the same
    /// kind grant.
    static let deny: RuleAccess = []

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    init?(word: String) {
        switch word {
        case "read": self = .read
        case "write": self = .write
        case "readwrite": self = .readWrite
        case "deny": self = .deny
        default: return nil
        }
    }
}
