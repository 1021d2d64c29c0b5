/// A topic filter split into levels once, so that checking it against a
/// topic on every publish and delivery neither splits nor allocates.
///
/// Matching follows MQTT (§4.7) as Mosquitto does: `+` is one level, `#` the
/// rest including none (`a/#` matches `a`), and a wildcard in the first level
/// does not match a topic starting with `$`.
struct CompiledTopicFilter: Sendable, Hashable, CustomStringConvertible {
    enum Level: Sendable, Hashable {
        case literal([UInt8])
        /// `+`
        case single
        /// `#`
        case multi
    }

    let levels: [Level]

    private static let slash = UInt8(ascii: "/")
    private static let dollar = UInt8(ascii: "$")

    /// Compiles a filter that `Topic.validateFilter` accepts.
    init(_ filter: String) {
        levels = filter.utf8.split(separator: Self.slash, omittingEmptySubsequences: false).map { level in
            switch level.count == 1 ? level.first : nil {
            case UInt8(ascii: "+"): .single
            case UInt8(ascii: "#"): .multi
            default: .literal(Array(level))
            }
        }
    }

    private init(levels: [Level]) {
        self.levels = levels
    }

    var description: String {
        levels.map { level in
            switch level {
            case .literal(let bytes): String(decoding: bytes, as: UTF8.self)
            case .single: "+"
            case .multi: "#"
            }
        }.joined(separator: "/")
    }

    /// Whether the filter matches the topic name whose UTF-8 bytes are `topic`.
    func matches(_ topic: UnsafeBufferPointer<UInt8>) -> Bool {
        if topic.first == Self.dollar, let first = levels.first, first.isWildcard { return false }
        // `start` is where the next topic level begins; past the end once the last level is used.
        var start = 0
        for level in levels {
            if case .multi = level { return true }
            guard start <= topic.count else { return false }
            var end = start
            while end < topic.count && topic[end] != Self.slash { end += 1 }
            if case .literal(let bytes) = level {
                guard end - start == bytes.count else { return false }
                for offset in 0..<bytes.count where topic[start + offset] != bytes[offset] { return false }
            }
            start = end + 1
        }
        return start > topic.count
    }

    /// Whether every topic that `other` matches, this filter matches too.
    func covers(_ other: CompiledTopicFilter) -> Bool {
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
    func intersection(_ other: CompiledTopicFilter) -> CompiledTopicFilter? {
        var common = [Level]()
        var index = 0
        while true {
            let mineEnded = index == levels.count
            let theirsEnded = index == other.levels.count
            if mineEnded || theirsEnded {
                // One filter ends here; the other meets it only if it is done too, or ends in `#` (the parent match).
                let rest = mineEnded ? other.levels[index...] : levels[index...]
                return rest.isEmpty || rest.elementsEqual([.multi]) ? CompiledTopicFilter(levels: common) : nil
            }
            let (mine, theirs) = (levels[index], other.levels[index])
            let eitherIsDollarLiteral = index == 0 && (startsWithDollarLevel || other.startsWithDollarLevel)
            switch (mine, theirs) {
            case (.multi, _):
                if eitherIsDollarLiteral && theirs.isLiteral { return nil }
                return CompiledTopicFilter(levels: common + other.levels[index...])
            case (_, .multi):
                if eitherIsDollarLiteral && mine.isLiteral { return nil }
                return CompiledTopicFilter(levels: common + levels[index...])
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
        if case .literal(let bytes) = levels.first, bytes.first == Self.dollar { true } else { false }
    }
}

extension CompiledTopicFilter.Level {
    var isWildcard: Bool {
        if case .literal = self { false } else { true }
    }

    var isLiteral: Bool { !isWildcard }
}
