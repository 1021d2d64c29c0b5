/// The line structure of a password file, shared by the reader of hashed
/// files and by the upgrade of plain-text ones (`homerules passwd -U`).
///
/// As Mosquitto reads it: a line starting with `#` is a comment; blank lines
/// are skipped; every other line is `user:value`, with blanks around the
/// user name and the value ignored. Where Mosquitto skips a line it cannot
/// use (no `:`, no value) and starts anyway, this reader reports the line:
/// a user silently missing shows up only as "not authorised" on a device.
enum PasswordFileSyntax {
    /// One line of the file.
    enum Line {
        /// A comment or blank line, kept as it is when the file is rewritten.
        case verbatim(String)
        /// `user:value`; `valueColumn` is where the value starts, for errors.
        case entry(username: String, value: Substring, line: Int, valueColumn: Int)
    }

    /// The lines of `text`, or the errors of the lines that are neither
    /// comments, blank, nor `user:value`.
    static func lines(of text: String, path: String) -> (lines: [Line], errors: [AuthFileDiagnostic]) {
        var lines = [Line]()
        var errors = [AuthFileDiagnostic]()
        for (number, raw) in text.mosquittoLines() {
            if raw.first == "#" || raw.allSatisfy(\.isMosquittoBlank) {
                // Rewritten with the line feeds of the entries, without a CR of Windows.
                lines.append(.verbatim(String(Substring(raw.last == "\r" ? raw.dropLast() : raw))))
                continue
            }
            guard let colon = raw.firstIndex(of: ":") else {
                errors.append(AuthFileDiagnostic(.error, path: path, line: number, column: 1, message: "expected USER:HASH"))
                continue
            }
            let username = raw[..<colon].trimmingMosquittoBlanks()
            let value = raw[raw.index(after: colon)...].trimmingMosquittoBlanks()
            let valueColumn = raw.distance(from: raw.startIndex, to: value.startIndex) + 1
            if username.isEmpty {
                errors.append(AuthFileDiagnostic(.error, path: path, line: number, column: 1, message: "the user name is empty"))
            } else if value.isEmpty {
                errors.append(
                    AuthFileDiagnostic(.error, path: path, line: number, column: valueColumn, message: "user '\(Substring(username))' has no password"))
            } else {
                let entry = Line.entry(username: String(Substring(username)), value: Substring(value), line: number, valueColumn: valueColumn)
                lines.append(entry)
            }
        }
        return (lines, errors)
    }
}

/// Mosquitto reads its files byte by byte in the C locale; these helpers
/// work on Unicode scalars, so that a combining mark after `:` or `/` does
/// not hide it as it would inside a Swift `Character`.
typealias ScalarLine = Substring.UnicodeScalarView

extension String {
    /// The lines, numbered from 1, without their line feed. A final line
    /// feed does not start another line.
    func mosquittoLines() -> [(number: Int, text: ScalarLine)] {
        var lines = unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.enumerated().map { ($0.offset + 1, $0.element) }
    }
}

extension Unicode.Scalar {
    /// C's `isspace` in the C locale, which Mosquitto trims with.
    var isMosquittoBlank: Bool {
        self == " " || self == "\t" || self == "\n" || self == "\r" || self == "\u{0B}" || self == "\u{0C}"
    }
}

extension ScalarLine {
    /// The text without the blanks Mosquitto trims from both ends.
    func trimmingMosquittoBlanks() -> ScalarLine {
        guard let first = firstIndex(where: { !$0.isMosquittoBlank }), let last = lastIndex(where: { !$0.isMosquittoBlank }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
