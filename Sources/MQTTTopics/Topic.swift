/// Topic names and topic filters: their syntax (MQTT 3.1.1 §4.7, 5.0 §4.7),
/// checked byte by byte as MQTT defines them.
///
/// One copy of these rules serves the codec, the broker, the ACL, the client
/// and the rules engine, so that what `rules check` accepts the broker accepts.
public enum Topic {
    /// Why a topic name or filter is invalid, in words for the user.
    public enum SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        case empty
        case tooLong
        case wildcardInName
        case misplacedMultiLevelWildcard
        case partialLevelWildcard
        /// U+0000, which §4.7.3 forbids, or a control character or a
        /// noncharacter, which MQTT says SHOULD NOT appear (see `MQTTCharacters`).
        case disallowedCharacter(Unicode.Scalar)

        public var description: String {
            switch self {
            case .empty: "a topic must not be empty"
            case .tooLong: "a topic is at most 65535 bytes"
            case .wildcardInName: "a topic name must not contain the wildcards '+' or '#'"
            case .misplacedMultiLevelWildcard: "'#' must be the last level of a filter"
            case .partialLevelWildcard: "'+' and '#' must fill a whole level, as in 'home/+/temperature'"
            case .disallowedCharacter(let scalar):
                "a topic must not contain \(MQTTCharacters.name(of: scalar))"
            }
        }
    }

    /// The longest topic name or filter: a two-byte length prefixes it (§1.5.3).
    public static let maximumLength = 65_535

    static let plus = UInt8(ascii: "+")
    static let hash = UInt8(ascii: "#")
    static let slash = UInt8(ascii: "/")
    static let dollar = UInt8(ascii: "$")

    /// Checks a topic name that a PUBLISH or a will may carry.
    public static func validateName(_ name: String) throws(SyntaxError) {
        try validateLengthAndCharacters(name)
        if isWildcard(name) { throw .wildcardInName }
    }

    /// Checks a topic filter that a SUBSCRIBE may carry.
    public static func validateFilter(_ filter: String) throws(SyntaxError) {
        try validateLengthAndCharacters(filter)
        // One pass over the bytes: a wildcard must be alone in its level, and `#` last.
        var levelLength = 0
        var levelHasWildcard = false
        var sawMultiLevel = false
        for byte in filter.utf8 {
            if byte == slash {
                if sawMultiLevel { throw .misplacedMultiLevelWildcard }
                levelLength = 0
                levelHasWildcard = false
                continue
            }
            if sawMultiLevel { throw .partialLevelWildcard }
            levelLength += 1
            if byte == plus || byte == hash {
                if levelLength > 1 { throw .partialLevelWildcard }
                levelHasWildcard = true
                sawMultiLevel = byte == hash
            } else if levelHasWildcard {
                throw .partialLevelWildcard
            }
        }
    }

    private static func validateLengthAndCharacters(_ topic: String) throws(SyntaxError) {
        if topic.isEmpty { throw .empty }
        if topic.utf8.count > maximumLength { throw .tooLong }
        if let scalar = MQTTCharacters.firstDisallowed(in: topic) { throw .disallowedCharacter(scalar) }
    }

    /// Whether a topic or filter holds a wildcard byte.
    public static func isWildcard(_ filter: String) -> Bool {
        filter.utf8.contains(where: { $0 == plus || $0 == hash })
    }

    /// Whether a topic starts with `$`, which a leading wildcard does not match (§4.7.2).
    public static func isSystem(_ topic: String) -> Bool {
        topic.utf8.first == dollar
    }

    /// How many levels a topic or filter has: one more than its `/` bytes.
    public static func levelCount(_ topic: String) -> Int {
        topic.utf8.reduce(1) { count, byte in byte == slash ? count + 1 : count }
    }

    /// Whether `filter` (valid) matches the topic name `topic`.
    public static func matches(filter: String, topic: String) -> Bool {
        TopicFilter(compiling: filter).matches(topic)
    }

    /// Splits a topic or filter into its levels on the byte `/`; empty levels
    /// are kept. Splitting on the Character would miss a `/` that a
    /// combining mark joins to the next character.
    static func levels(_ topic: String) -> [Substring] {
        topic.utf8.split(separator: slash, omittingEmptySubsequences: false).map { Substring($0) }
    }
}

/// The characters MQTT strings may hold: every UTF-8 string of the protocol
/// (topics, client ids, user names) follows this rule.
public enum MQTTCharacters {
    /// The first scalar of `string` that MQTT forbids (U+0000, §1.5.3) or
    /// says SHOULD NOT appear (control characters, noncharacters), or nil.
    ///
    /// For the latter a receiver MAY close the connection; Mosquitto does,
    /// and so do we, so that what one broker accepts the other does too.
    public static func firstDisallowed(in string: String) -> Unicode.Scalar? {
        // Most strings are printable ASCII: one pass over the bytes tells,
        // without decoding scalars (every topic routed is checked twice).
        if string.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return nil }
        return string.unicodeScalars.first { !isAllowed($0) }
    }

    /// Names a disallowed scalar for an error message.
    public static func name(of scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        switch scalar.value {
        case 0: return "NUL (\(code))"
        case 0x01...0x1F, 0x7F...0x9F: return "the control character \(code)"
        default: return "the noncharacter \(code)"
        }
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: false
        case 0xFDD0...0xFDEF: false
        case let value where value & 0xFFFE == 0xFFFE: false
        default: true
        }
    }
}
