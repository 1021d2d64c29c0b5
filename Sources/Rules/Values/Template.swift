import Foundation

/// Text with `{{ variable }}` placeholders, such as
/// `"{{ device.name }} went offline"`.
///
/// Variables are dotted paths (`trigger.value`, `devices.node.temperature`);
/// `TemplateScope` checks them when rules load, and the engine fills them
/// in when an action runs. A variable without a value renders as nothing.
public struct Template: Sendable, Hashable, Codable, CustomStringConvertible {
    enum Part: Sendable, Hashable, Codable {
        case text(String)
        case variable([String])
    }

    /// The template as written.
    public let description: String
    let parts: [Part]

    /// A template that is plain text.
    public init(literal text: String) {
        description = text
        parts = text.isEmpty ? [] : [.text(text)]
    }

    /// Reads `text`, or throws a message saying what is wrong with it.
    public init(parsing text: String) throws(TemplateSyntaxError) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw TemplateSyntaxError(message: "'{{' is not closed by '}}'")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw TemplateSyntaxError(message: "'{{ }}' names no variable") }
            let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard path.allSatisfy(Identifier.isValid) else {
                throw TemplateSyntaxError(message: "'\(name)' is not a variable name: write a dotted name such as trigger.value")
            }
            parts.append(.variable(path))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        description = text
        self.parts = parts
    }

    /// The variables the template uses, in order.
    var variables: [[String]] {
        parts.compactMap { if case .variable(let path) = $0 { path } else { nil } }
    }

    /// The text with every variable replaced by `value(path)`, or by
    /// nothing when it has no value.
    func render(_ value: ([String]) -> String?) -> String {
        var result = ""
        for part in parts {
            switch part {
            case .text(let text): result += text
            case .variable(let path): result += value(path) ?? ""
            }
        }
        return result
    }
}

/// What is wrong with a template's text.
public struct TemplateSyntaxError: Error, Sendable, Hashable {
    public var message: String
}

