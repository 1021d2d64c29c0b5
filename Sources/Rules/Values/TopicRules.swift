import MQTTTopics

/// The rules of MQTT topics, from the shared `MQTTTopics` target, worded
/// for the diagnostics of `rules check` and the engine's problems.
extension TopicFilter {
    /// Why `text` cannot be a topic name (no wildcards), or nil when it can.
    static func problem(name text: String) -> String? {
        do {
            try Topic.validateName(text)
            return nil
        } catch {
            return error.description
        }
    }
}

/// Values stored under topic filters, found by topic name.
struct TopicTrie<Value> {
    private var tree = TopicTree<[Value]>()

    mutating func insert(_ value: Value, for filter: TopicFilter) {
        tree.modifyPayload(at: filter.description) { values in values = (values ?? []) + [value] }
    }

    /// Every value whose filter matches `topic`.
    func values(matching topic: String) -> [Value] {
        var result: [Value] = []
        tree.forEachPayload(ofFiltersMatching: topic) { result += $0 }
        return result
    }
}

extension TopicTrie: Sendable where Value: Sendable {}
