import MQTTTopics
import TestSupport
import Testing

@Suite("Topic trees: subscriptions and retained topics, at any depth", .timeLimit(.minutes(5)))
struct TopicTreeTests {
    /// 65,535 levels, all empty: the deepest topic MQTT allows (65,534 bytes).
    static let deepestTopic = String(repeating: "/", count: 65_534)
    /// `a/a/.../a`: 32,768 levels in 65,535 bytes.
    static let deepNamedTopic = Array(repeating: "a", count: 32_768).joined(separator: "/")
    /// `+/+/.../#`: 32,767 single-level wildcards and a `#`, 65,535 bytes.
    static let deepWildcardFilter = String(repeating: "+/", count: 32_767) + "#"

    private func filters(matching topic: String, in tree: TopicTree<String>) -> Set<String> {
        var found: Set<String> = []
        tree.forEachPayload(ofFiltersMatching: topic) { found.insert($0) }
        return found
    }

    private func topics(matchedBy filter: String, in tree: TopicTree<String>) -> Set<String> {
        var found: Set<String> = []
        tree.forEachPayload(ofTopicsMatchedBy: filter) { found.insert($0) }
        return found
    }

    @Test func filtersAreFoundByTheTopicsTheyMatch() {
        var tree = TopicTree<String>()
        for filter in ["a/b", "a/+", "a/#", "#", "+/b", "+", "$SYS/#", "+/+/c", "a//b"] {
            tree.modifyPayload(at: filter) { $0 = filter }
        }
        #expect(filters(matching: "a/b", in: tree) == ["a/b", "a/+", "a/#", "#", "+/b"])
        #expect(filters(matching: "a", in: tree) == ["a/#", "#", "+"])
        #expect(filters(matching: "$SYS/x", in: tree) == ["$SYS/#"])
        #expect(filters(matching: "a//b", in: tree) == ["a//b", "a/#", "#"])
        #expect(tree.count == 9)
    }

    @Test func topicsAreFoundByTheFiltersThatMatchThem() {
        var tree = TopicTree<String>()
        for topic in ["a", "a/b", "a/b/c", "b/b", "$SYS/x", "/", "a//c"] {
            tree.modifyPayload(at: topic) { $0 = topic }
        }
        #expect(topics(matchedBy: "#", in: tree) == ["a", "a/b", "a/b/c", "b/b", "/", "a//c"])
        #expect(topics(matchedBy: "a/#", in: tree) == ["a", "a/b", "a/b/c", "a//c"])
        #expect(topics(matchedBy: "+/b", in: tree) == ["a/b", "b/b"])
        #expect(topics(matchedBy: "+", in: tree) == ["a"])
        #expect(topics(matchedBy: "$SYS/+", in: tree) == ["$SYS/x"])
        #expect(topics(matchedBy: "+/+", in: tree) == ["a/b", "b/b", "/"])
    }

    @Test func levelsCompareByteByByte() {
        var tree = TopicTree<String>()
        tree.modifyPayload(at: "caf\u{E9}") { $0 = "precomposed" }
        tree.modifyPayload(at: "cafe\u{301}") { $0 = "decomposed" }
        #expect(tree.count == 2)
        #expect(tree.payload(at: "caf\u{E9}") == "precomposed")
        #expect(tree.payload(at: "cafe\u{301}") == "decomposed")
        #expect(filters(matching: "caf\u{E9}", in: tree) == ["precomposed"])
        // A combining mark right after `/` joins it into one Character; the level still starts after the byte.
        tree.modifyPayload(at: "a/\u{301}x") { $0 = "mark after the slash" }
        tree.modifyPayload(at: "+/\u{301}x") { $0 = "wildcard, then the mark" }
        #expect(filters(matching: "a/\u{301}x", in: tree) == ["mark after the slash", "wildcard, then the mark"])
        #expect(filters(matching: "a/x", in: tree).isEmpty)
    }

    @Test func anEmptyLastLevelIsALevel() {
        var tree = TopicTree<String>()
        for filter in ["a/+", "a/#", "a", "+/+"] { tree.modifyPayload(at: filter) { $0 = filter } }
        #expect(filters(matching: "a/", in: tree) == ["a/+", "a/#", "+/+"])
        #expect(filters(matching: "a", in: tree) == ["a/#", "a"])
        #expect(filters(matching: "/", in: tree) == ["+/+"])
    }

    @Test func removingPrunesAndNothingIsMadeForANilPayload() {
        var tree = TopicTree<String>()
        tree.modifyPayload(at: "a/b/c") { $0 = "x" }
        tree.modifyPayload(at: "a/b/c") { $0 = nil }
        tree.modifyPayload(at: "never/made") { _ in }
        #expect(tree.count == 0)
        #expect(tree.payload(at: "a/b") == nil)
        #expect(topics(matchedBy: "#", in: tree).isEmpty)
    }

    @Test func aBurstOfTopicsThatAreGoneLeavesAWorkingTree() {
        var tree = TopicTree<String>()
        for index in 0..<5_000 { tree.modifyPayload(at: "burst/\(index)/value") { $0 = "\(index)" } }
        tree.modifyPayload(at: "kept/one") { $0 = "kept" }
        for index in 0..<5_000 { tree.modifyPayload(at: "burst/\(index)/value") { $0 = nil } }
        #expect(tree.count == 1)
        #expect(topics(matchedBy: "#", in: tree) == ["kept"])
        tree.modifyPayload(at: "burst/1/value") { $0 = "again" }
        #expect(filters(matching: "burst/1/value", in: tree) == ["again"])
    }

    // Seconds of work in a debug build: on a thread of its own, not one of the
    // two that run every test's tasks.
    @Test("every operation at 65,535 levels, without recursion")
    func theProtocolsDeepestTopics() async throws {
        try await offloaded { self.walkTheDeepestTopics() }
    }

    private func walkTheDeepestTopics() {
        var subscriptions = TopicTree<String>()
        subscriptions.modifyPayload(at: Self.deepestTopic) { $0 = "deep" }
        subscriptions.modifyPayload(at: "#") { $0 = "all" }
        subscriptions.modifyPayload(at: Self.deepWildcardFilter) { $0 = "wildcards" }
        #expect(filters(matching: Self.deepestTopic, in: subscriptions) == ["deep", "all", "wildcards"])
        #expect(filters(matching: Self.deepNamedTopic, in: subscriptions) == ["all", "wildcards"])
        subscriptions.modifyPayload(at: Self.deepestTopic) { $0 = nil }
        subscriptions.modifyPayload(at: Self.deepWildcardFilter) { $0 = nil }
        #expect(subscriptions.count == 1)

        var retained = TopicTree<String>()
        retained.modifyPayload(at: Self.deepestTopic) { $0 = "empty levels" }
        retained.modifyPayload(at: Self.deepNamedTopic) { $0 = "named levels" }
        #expect(topics(matchedBy: "#", in: retained) == ["empty levels", "named levels"])
        #expect(topics(matchedBy: Self.deepWildcardFilter, in: retained) == ["empty levels", "named levels"])
        #expect(topics(matchedBy: Self.deepestTopic, in: retained) == ["empty levels"])
        #expect(retained.payload(at: Self.deepNamedTopic) == "named levels")
        // Dropped with both deep branches in place: freeing must not recurse either.
    }
}
