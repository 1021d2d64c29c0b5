/// Topic names and topic filters: their syntax (MQTT 3.1.1 §4.7) and matching.
public enum Topic {
    /// Why a topic name or filter is invalid.
    public enum SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        case empty
        case tooLong
        case wildcardInName
        case misplacedMultiLevelWildcard
        case partialLevelWildcard
        /// U+0000, which §4.7.3 forbids, or a control character or
        /// noncharacter, which the decoder refuses (see `MQTTProtocolError`).
        case disallowedCharacter(Unicode.Scalar)

        public var description: String {
            switch self {
            case .empty: "topic is empty"
            case .tooLong: "topic is longer than 65535 bytes"
            case .wildcardInName: "a topic name must not contain '+' or '#'"
            case .misplacedMultiLevelWildcard: "'#' must be the last level of a filter"
            case .partialLevelWildcard: "'+' and '#' must occupy a whole level"
            case .disallowedCharacter(let scalar):
                "a topic must not contain U+\(String(scalar.value, radix: 16, uppercase: true))"
            }
        }
    }

    private static let plus = UInt8(ascii: "+")
    private static let hash = UInt8(ascii: "#")
    private static let slash = UInt8(ascii: "/")
    private static let dollar = UInt8(ascii: "$")

    /// Checks a topic name that a PUBLISH or a will may carry.
    public static func validateName(_ name: String) throws(SyntaxError) {
        try validateLengthAndCharacters(name)
        if isWildcard(name) { throw .wildcardInName }
    }

    /// Checks a topic filter that a SUBSCRIBE may carry.
    public static func validateFilter(_ filter: String) throws(SyntaxError) {
        try validateLengthAndCharacters(filter)
        let levels = filter.utf8.split(separator: slash, omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains(hash) {
                guard level.count == 1 else { throw .partialLevelWildcard }
                guard index == levels.count - 1 else { throw .misplacedMultiLevelWildcard }
            } else if level.contains(plus) {
                guard level.count == 1 else { throw .partialLevelWildcard }
            }
        }
    }

    private static func validateLengthAndCharacters(_ topic: String) throws(SyntaxError) {
        if topic.isEmpty { throw .empty }
        if topic.utf8.count > 65_535 { throw .tooLong }
        if let scalar = MQTTString.firstDisallowedScalar(in: topic) { throw .disallowedCharacter(scalar) }
    }

    /// Whether a filter holds a wildcard.
    public static func isWildcard(_ filter: String) -> Bool {
        filter.utf8.contains(where: { $0 == plus || $0 == hash })
    }

    /// Whether a topic starts with `$`, which a leading wildcard does not match (§4.7.2).
    public static func isSystem(_ topic: String) -> Bool {
        topic.utf8.first == dollar
    }

    /// Splits a topic or filter into its levels; empty levels are kept.
    ///
    /// Splits on the byte `/`, as matching does: splitting on the Character
    /// would miss a `/` that a combining mark joins to the next character.
    public static func levels(_ topic: String) -> [Substring] {
        topic.utf8.split(separator: slash, omittingEmptySubsequences: false).map { Substring($0) }
    }

    /// Whether `filter` (assumed valid) matches the topic name `topic`.
    public static func matches(filter: String, topic: String) -> Bool {
        if isSystem(topic), let first = filter.utf8.first, first == plus || first == hash {
            return false
        }
        var filterLevels = filter.utf8.split(separator: slash, omittingEmptySubsequences: false)[...]
        var topicLevels = topic.utf8.split(separator: slash, omittingEmptySubsequences: false)[...]
        while let level = filterLevels.popFirst() {
            if level.count == 1 && level.first == hash { return true }
            guard let topicLevel = topicLevels.popFirst() else { return false }
            if level.count == 1 && level.first == plus { continue }
            if !level.elementsEqual(topicLevel) { return false }
        }
        return topicLevels.isEmpty
    }
}
