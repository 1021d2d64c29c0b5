/// Payloads stored under topic names or filters, level by level, so that a
/// lookup visits only the branches a topic can match.
///
/// The nodes live in one array and refer to each other by index: neither a
/// walk nor freeing the tree recurses, whatever the depth a client or a file
/// gives a topic (MQTT allows 65,535 levels). The broker's subscriptions and
/// retained messages and the rules engine's topic index are such trees.
public struct TopicTree<Payload> {
    // Internal but inlinable, like the walk that routes every message: the
    // broker's copy of it is then specialized for its payload type instead
    // of looking up generic metadata at every node.
    @usableFromInline
    struct Node {
        /// Children under named levels.
        @usableFromInline var named: [TopicLevel: Int] = [:]
        /// The children under `+` and `#`, kept apart: a publish asks for
        /// both at every level it walks, and a hash lookup each would double
        /// the cost of the walk.
        @usableFromInline var singleLevel: Int?
        @usableFromInline var multiLevel: Int?
        @usableFromInline var payload: Payload?

        var isUnused: Bool { named.isEmpty && singleLevel == nil && multiLevel == nil && payload == nil }

        func child(_ level: TopicLevel) -> Int? {
            switch level.wildcard {
            case .single: singleLevel
            case .multi: multiLevel
            case nil: named[level]
            }
        }

        mutating func setChild(_ level: TopicLevel, _ child: Int?) {
            switch level.wildcard {
            case .single: singleLevel = child
            case .multi: multiLevel = child
            case nil: named[level] = child
            }
        }

        /// Every child with its level, wildcards included.
        var children: [(level: TopicLevel, child: Int)] {
            var all = named.map { (level: $0.key, child: $0.value) }
            if let singleLevel { all.append((.single, singleLevel)) }
            if let multiLevel { all.append((.multi, multiLevel)) }
            return all
        }
    }

    /// `nodes[0]` is the root, the level before the first.
    @usableFromInline var nodes = [Node()]
    /// Slots of removed nodes, reused before the array grows.
    private var freeSlots: [Int] = []
    /// How many topics or filters hold a payload.
    public private(set) var count = 0

    public init() {}

    /// The payload stored under exactly this topic or filter.
    public func payload(at path: String) -> Payload? {
        var node = 0
        for level in Topic.levels(path) {
            guard let next = nodes[node].child(TopicLevel(level)) else { return nil }
            node = next
        }
        return nodes[node].payload
    }

    /// Lets `body` change the payload under `path` in place: setting it
    /// makes the path, setting nil removes it and frees the nodes no longer
    /// used. Nothing is made for a payload that stays nil.
    @discardableResult
    public mutating func modifyPayload<Result>(at path: String, _ body: (inout Payload?) -> Result) -> Result {
        let levels = Topic.levels(path)
        // trail[depth] is the node reached after `depth` levels.
        var trail = [0]
        while trail.count <= levels.count, let next = nodes[trail[trail.count - 1]].child(TopicLevel(levels[trail.count - 1])) {
            trail.append(next)
        }
        if trail.count > levels.count {
            let node = trail[trail.count - 1]
            let had = nodes[node].payload != nil
            let result = body(&nodes[node].payload)
            let has = nodes[node].payload != nil
            count += (has ? 1 : 0) - (had ? 1 : 0)
            if !has { prune(trail, levels) }
            return result
        }
        var payload: Payload?
        let result = body(&payload)
        guard let payload else { return result }
        var node = trail[trail.count - 1]
        for level in levels[(trail.count - 1)...] {
            let child = makeNode()
            nodes[node].setChild(TopicLevel(owning: level), child)
            node = child
        }
        nodes[node].payload = payload
        count += 1
        return result
    }

    /// Calls `body` with the payload of every stored filter that matches the
    /// topic name `topic`, each once.
    ///
    /// Every message routed takes this walk, so it reads the topic's levels
    /// in place rather than splitting it into an array first.
    @inlinable
    public func forEachPayload(ofFiltersMatching topic: String, _ body: (Payload) -> Void) {
        let bytes = topic.utf8
        let isSystem = Topic.isSystem(topic)
        // `start`: where the next level begins in `topic`, nil past the last one.
        var pending: [(node: Int, start: String.Index?)] = [(0, bytes.startIndex)]
        while let (node, start) = pending.popLast() {
            // §4.7.2: a filter starting with a wildcard does not match a `$` topic.
            let wildcardsMatch = node != 0 || !isSystem
            if wildcardsMatch, let multi = nodes[node].multiLevel, let payload = nodes[multi].payload {
                body(payload)  // `a/#` matches `a` itself and everything below it.
            }
            guard let start else {
                if let payload = nodes[node].payload { body(payload) }
                continue
            }
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
            let next = end == bytes.endIndex ? nil : bytes.index(after: end)
            if wildcardsMatch, let single = nodes[node].singleLevel { pending.append((single, next)) }
            // A Substring of the UTF-8 view: the level's exact bytes, even where a
            // combining mark follows the `/` (a String range would round to characters).
            if let named = nodes[node].named[TopicLevel(Substring(bytes[start..<end]))] { pending.append((named, next)) }
        }
    }

    /// Calls `body` with the payload of every stored topic name that the
    /// filter `filter` (valid) matches, each once.
    public func forEachPayload(ofTopicsMatchedBy filter: String, _ body: (Payload) -> Void) {
        let levels = Topic.levels(filter)
        /// `depth` nil: this node and everything below it (under a `#`).
        var pending: [(node: Int, depth: Int?)] = [(0, 0)]
        while let (node, depth) = pending.popLast() {
            guard let depth else {
                if let payload = nodes[node].payload { body(payload) }
                for (_, child) in nodes[node].children { pending.append((child, nil)) }
                continue
            }
            guard depth < levels.count else {
                if let payload = nodes[node].payload { body(payload) }
                continue
            }
            let level = TopicLevel(levels[depth])
            switch level {
            case .multi, .single:
                if level == .multi, let payload = nodes[node].payload { body(payload) }
                for (name, child) in nodes[node].children where depth > 0 || !name.isSystem {
                    pending.append((child, level == .multi ? nil : depth + 1))
                }
            default:
                if let next = nodes[node].named[level] { pending.append((next, depth + 1)) }
            }
        }
    }

    private mutating func makeNode() -> Int {
        if let slot = freeSlots.popLast() { return slot }
        nodes.append(Node())
        return nodes.count - 1
    }

    /// Frees the unused nodes at the end of `trail`, deepest first.
    private mutating func prune(_ trail: [Int], _ levels: [Substring]) {
        var depth = trail.count - 1
        while depth > 0, nodes[trail[depth]].isUnused {
            nodes[trail[depth - 1]].setChild(TopicLevel(levels[depth - 1]), nil)
            nodes[trail[depth]] = Node()
            freeSlots.append(trail[depth])
            depth -= 1
        }
        compactIfSparse()
    }

    /// Rebuilds the array once most of it is free slots, so that a burst of
    /// topics that are gone does not hold its memory for ever.
    private mutating func compactIfSparse() {
        guard freeSlots.count >= 1024, freeSlots.count * 2 >= nodes.count else { return }
        var compacted = [Node()]
        compacted.reserveCapacity(nodes.count - freeSlots.count)
        var pending = [(old: 0, new: 0)]
        while let (old, new) = pending.popLast() {
            compacted[new].payload = nodes[old].payload
            for (level, child) in nodes[old].children {
                compacted.append(Node())
                compacted[new].setChild(level, compacted.count - 1)
                pending.append((child, compacted.count - 1))
            }
        }
        nodes = compacted
        freeSlots = []
    }
}

extension TopicTree: Sendable where Payload: Sendable {}
extension TopicTree.Node: Sendable where Payload: Sendable {}
