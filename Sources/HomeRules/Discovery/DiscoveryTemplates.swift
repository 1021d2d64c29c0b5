import Foundation
import Rules

/// The Jinja templates of Home Assistant configs that a device file can say
/// without them: a plain lookup in the JSON payload, or the value put into
/// a command. Anything else (filters such as `| float`, arithmetic,
/// conditions) is not converted, and the proposal says so in a comment.
enum DiscoveryTemplates {
    /// What a `value_template` reads from the payload.
    enum Lookup: Sendable, Hashable {
        /// `{{ value }}`: the payload is the value.
        case wholePayload
        /// `{{ value_json.a.b }}`, `{{ value_json['a'].b }}`: the JSON path `a.b`.
        case path(String)
        /// Anything else: the template as written.
        case notConverted(String)
    }

    /// Reads `{{ value }}` and `{{ value_json` followed by `.key`,
    /// `['key']`, `["key"]` or `[index]` steps `}}`.
    static func lookup(_ template: String) -> Lookup {
        guard let inner = expression(in: template) else { return .notConverted(template) }
        if inner == "value" { return .wholePayload }
        guard inner.hasPrefix("value_json") else { return .notConverted(template) }
        var rest = inner.dropFirst("value_json".count)
        var path = ""
        while let first = rest.first {
            if first == "." {
                let key = rest.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard !key.isEmpty else { return .notConverted(template) }
                path += (path.isEmpty ? "" : ".") + key
                rest = rest.dropFirst(1 + key.count)
            } else if first == "[" {
                guard let close = rest.firstIndex(of: "]") else { return .notConverted(template) }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                if let index = Int(inside), index >= 0 {
                    path += "[\(index)]"
                } else if inside.count >= 2, let quote = inside.first, quote == "'" || quote == "\"", inside.last == quote {
                    let key = inside.dropFirst().dropLast()
                    // A path names keys between dots and brackets; a key holding them cannot be named.
                    guard !key.isEmpty, !key.contains(where: { ".[]'\"".contains($0) }) else { return .notConverted(template) }
                    path += (path.isEmpty ? "" : ".") + key
                } else {
                    return .notConverted(template)
                }
                rest = rest[rest.index(after: close)...]
            } else {
                return .notConverted(template)
            }
        }
        guard !path.isEmpty, JSONPath(path) != nil else { return .notConverted(template) }
        return .path(path)
    }

    /// A `command_template` as a device file writes it: one `{{ value }}`
    /// in literal text; nil when it does more than that.
    static func commandTemplate(_ template: String) -> String? {
        guard let open = template.range(of: "{{"), let close = template.range(of: "}}", range: open.upperBound..<template.endIndex)
        else { return nil }
        let before = template[..<open.lowerBound], after = template[close.upperBound...]
        guard template[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces) == "value",
              !before.contains("{%"), !after.contains("{{"), !after.contains("{%")
        else { return nil }
        return "\(before){{ value }}\(after)"
    }

    /// The expression inside a template that is `{{ ... }}` and nothing else.
    private static func expression(in template: String) -> String? {
        let trimmed = template.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{{"), trimmed.hasSuffix("}}"), trimmed.count >= 4 else { return nil }
        let inner = trimmed.dropFirst(2).dropLast(2)
        guard !inner.contains("{{"), !inner.contains("}}") else { return nil }
        return inner.trimmingCharacters(in: .whitespaces)
    }
}
