import Foundation

/// `device.member`: how rules name a sensor or an actuator of a device.
public struct QualifiedName: Sendable, Hashable, Codable, CustomStringConvertible {
    public var device: String
    public var member: String

    public init(device: String, member: String) {
        self.device = device
        self.member = member
    }

    /// Splits `livingroom-node.temperature` at its last dot.
    public init?(parsing text: String) {
        guard let dot = text.lastIndex(of: "."), dot != text.startIndex, text.index(after: dot) != text.endIndex
        else { return nil }
        device = String(text[..<dot])
        member = String(text[text.index(after: dot)...])
    }

    public var description: String { "\(device).\(member)" }
}

/// The characters allowed in device ids and in sensor and actuator names,
/// which rules and templates join with dots.
enum Identifier {
    static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
    }

    static let help = "use ASCII letters (a-z, A-Z), digits, '-' and '_' only"
}

