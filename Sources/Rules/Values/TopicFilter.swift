/// An MQTT topic filter with `+` and `#` wildcards, and its matching rules
/// (MQTT 3.1.1 §4.7): `#` matches the parent level too, and a filter that
/// starts with a wildcard does not match topics that start with `$`.
///
/// The `Rules` target cannot use the `MQTT` target, so it keeps this small
/// copy of the matching rules for `mqtt` triggers.
public struct TopicFilter: Sendable, Hashable, Codable, CustomStringConvertible {
    public let description: String
    let levels: [String]

    /// Why a topic or filter is not valid, to show the user.
    static func problem(filter text: String) -> String? {
        if text.isEmpty { return "a topic must not be empty" }
        if text.utf8.count > 65_535 { return "a topic is at most 65535 bytes" }
        if text.contains("\u{0}") { return "a topic must not contain a NUL character" }
        let levels = text.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() where level.contains("#") || level.contains("+") {
            if level.count != 1 { return "'+' and '#' must fill a whole topic level, as in 'home/+/temperature'" }
            if level == "#", index != levels.count - 1 { return "'#' must be the last level of a topic filter" }
        }
        return nil
    }

    /// Why `text` cannot be a topic name (no wildcards), to show the user.
    static func problem(name text: String) -> String? {
        if text.contains("+") || text.contains("#") { return "this topic must not contain the wildcards '+' or '#'" }
        return problem(filter: text)
    }

    /// Reads a filter, or returns nil when it is not valid.
    public init?(_ text: String) {
        guard Self.problem(filter: text) == nil else { return nil }
        description = text
        levels = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    }

    /// Whether the filter has a `+` or `#`.
    public var hasWildcard: Bool { levels.contains { $0 == "+" || $0 == "#" } }

    /// Whether the filter matches the topic name `topic`.
    public func matches(_ topic: String) -> Bool {
        if topic.hasPrefix("$"), let first = levels.first, first == "+" || first == "#" { return false }
        var topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)[...]
        for level in levels {
            if level == "#" { return true }
            guard let topicLevel = topicLevels.popFirst() else { return false }
            if level != "+", level != topicLevel { return false }
        }
        return topicLevels.isEmpty
    }
}

/// Values stored under topic filters, found by topic name: exact topics in a
/// dictionary, wildcard filters in a trie, so a lookup costs the depth of the
/// topic and not the number of filters.
struct TopicTrie<Value> {
    fileprivate struct Node {
        var values: [Value] = []
        var children: [String: Node] = [:]

        mutating func insert(_ value: Value, levels: ArraySlice<String>) {
            guard let level = levels.first else {
                values.append(value)
                return
            }
            children[level, default: Node()].insert(value, levels: levels.dropFirst())
        }
    }

    private var exact: [String: [Value]] = [:]
    private var root = Node()

    mutating func insert(_ value: Value, for filter: TopicFilter) {
        if filter.hasWildcard {
            root.insert(value, levels: filter.levels[...])
        } else {
            exact[filter.description, default: []].append(value)
        }
    }

    /// Every value whose filter matches `topic`.
    func values(matching topic: String) -> [Value] {
        var result = exact[topic] ?? []
        guard !root.children.isEmpty else { return result }
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        collect(from: root, levels: levels[...], wildcardsAllowed: !topic.hasPrefix("$"), into: &result)
        return result
    }

    private func collect(from node: Node, levels: ArraySlice<Substring>, wildcardsAllowed: Bool, into result: inout [Value]) {
        if wildcardsAllowed, let multi = node.children["#"] { result += multi.values }
        guard let level = levels.first else {
            result += node.values
            return
        }
        let rest = levels.dropFirst()
        // Exact topics live in `exact`, but wildcard filters have exact levels too.
        if let child = node.children[String(level)] { collect(from: child, levels: rest, wildcardsAllowed: true, into: &result) }
        if wildcardsAllowed, let single = node.children["+"] {
            collect(from: single, levels: rest, wildcardsAllowed: true, into: &result)
        }
    }
}

extension TopicTrie: Sendable where Value: Sendable {}
extension TopicTrie.Node: Sendable where Value: Sendable {}
