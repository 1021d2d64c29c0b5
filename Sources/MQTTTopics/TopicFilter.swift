/// A valid topic filter, split into levels once, so that matching it against
/// a topic neither splits nor allocates.
///
/// Matching follows MQTT (§4.7) as Mosquitto does: `+` is one level, `#` the
/// rest including none (`a/#` matches `a`), a wildcard in the first level
/// does not match a topic starting with `$`, and levels compare byte by byte.
public struct TopicFilter: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Level: Sendable, Hashable {
        case literal([UInt8])
        /// `+`
        case single
        /// `#`
        case multi

        public var isWildcard: Bool {
            if case .literal = self { false } else { true }
        }
    }

    /// The filter as written.
    public let description: String
    public let levels: [Level]

    /// Checks and compiles a filter.
    public init(_ text: String) throws(Topic.SyntaxError) {
        try Topic.validateFilter(text)
        self.init(compiling: text)
    }

    /// Compiles a filter already checked by `Topic.validateFilter`.
    public init(compiling text: String) {
        description = text
        levels = text.utf8.split(separator: Topic.slash, omittingEmptySubsequences: false).map { level in
            switch level.count == 1 ? level.first : nil {
            case Topic.plus: .single
            case Topic.hash: .multi
            default: .literal(Array(level))
            }
        }
    }

    private init(levels: [Level]) {
        self.levels = levels
        description = levels.map { level in
            switch level {
            case .literal(let bytes): String(decoding: bytes, as: UTF8.self)
            case .single: "+"
            case .multi: "#"
            }
        }.joined(separator: "/")
    }

    /// Whether the filter has a `+` or `#`.
    public var hasWildcard: Bool { levels.contains(where: \.isWildcard) }

    public static func == (lhs: TopicFilter, rhs: TopicFilter) -> Bool { lhs.levels == rhs.levels }
    public func hash(into hasher: inout Hasher) { hasher.combine(levels) }

    /// Whether the filter matches the topic name `topic`.
    public func matches(_ topic: String) -> Bool {
        var topic = topic
        return topic.withUTF8 { matches($0) }
    }

    /// Whether the filter matches the topic name whose UTF-8 bytes are `topic`.
    public func matches(_ topic: UnsafeBufferPointer<UInt8>) -> Bool {
        if topic.first == Topic.dollar, let first = levels.first, first.isWildcard { return false }
        // `start` is where the next topic level begins; past the end once the last level is used.
        var start = 0
        for level in levels {
            if case .multi = level { return true }
            guard start <= topic.count else { return false }
            var end = start
            while end < topic.count && topic[end] != Topic.slash { end += 1 }
            if case .literal(let bytes) = level {
                guard end - start == bytes.count else { return false }
                for offset in 0..<bytes.count where topic[start + offset] != bytes[offset] { return false }
            }
            start = end + 1
        }
        return start > topic.count
    }

    /// Whether every topic that `other` matches, this filter matches too.
    public func covers(_ other: TopicFilter) -> Bool {
        for (index, level) in levels.enumerated() {
            if case .multi = level { return index > 0 || !other.startsWithDollarLevel }
            guard index < other.levels.count else { return false }
            switch (level, other.levels[index]) {
            case (.single, .multi), (.literal, .single), (.literal, .multi):
                return false
            case (.single, .literal):
                if index == 0 && other.startsWithDollarLevel { return false }
            case (.literal(let mine), .literal(let theirs)):
                if mine != theirs { return false }
            case (.single, .single):
                continue
            case (.multi, _):
                return true  // handled above
            }
        }
        return levels.count == other.levels.count
    }

    /// The filter matching exactly the topics that both filters match, or
    /// nil when no topic matches both.
    public func intersection(_ other: TopicFilter) -> TopicFilter? {
        var common = [Level]()
        var index = 0
        while true {
            let mineEnded = index == levels.count
            let theirsEnded = index == other.levels.count
            if mineEnded || theirsEnded {
                // One filter ends here; the other meets it only if it is done too, or ends in `#` (the parent match).
                let rest = mineEnded ? other.levels[index...] : levels[index...]
                return rest.isEmpty || rest.elementsEqual([.multi]) ? TopicFilter(levels: common) : nil
            }
            let (mine, theirs) = (levels[index], other.levels[index])
            let eitherIsDollarLiteral = index == 0 && (startsWithDollarLevel || other.startsWithDollarLevel)
            switch (mine, theirs) {
            case (.multi, _):
                if eitherIsDollarLiteral && !theirs.isWildcard { return nil }
                return TopicFilter(levels: common + other.levels[index...])
            case (_, .multi):
                if eitherIsDollarLiteral && !mine.isWildcard { return nil }
                return TopicFilter(levels: common + levels[index...])
            case (.literal(let left), .literal(let right)):
                guard left == right else { return nil }
                common.append(mine)
            case (.literal, .single):
                if eitherIsDollarLiteral { return nil }
                common.append(mine)
            case (.single, .literal):
                if eitherIsDollarLiteral { return nil }
                common.append(theirs)
            case (.single, .single):
                common.append(.single)
            }
            index += 1
        }
    }

    private var startsWithDollarLevel: Bool {
        if case .literal(let bytes) = levels.first, bytes.first == Topic.dollar { true } else { false }
    }

    // Coded as the filter's text, checked again when decoded.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid topic filter '\(text)': \(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
