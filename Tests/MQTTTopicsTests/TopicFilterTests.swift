import MQTTTopics
import TestSupport
import Testing

@Suite("Compiled filters (the ACL's): matching, covering, intersecting", .timeLimit(.minutes(5)))
struct TopicFilterTests {
    private func matches(_ filter: String, _ topic: String) -> Bool {
        var topic = topic
        return topic.withUTF8 { TopicFilter(compiling: filter).matches($0) }
    }

    private static let filters = [
        "#", "+", "+/+", "a", "a/#", "a/+", "a/+/c", "+/b/#", "a/b/c", "a//c", "/#", "/+", "$SYS/#", "$SYS/+", "+/#", "a/b/#",
    ]
    private static let topics = ["a", "a/b", "a/b/c", "a/b/c/d", "b", "a//c", "/", "/a", "$SYS", "$SYS/x", "$SYS/x/y", "x/b", "x/b/y"]

    @Test func matchingAgreesWithTheBrokersMatcher() {
        for filter in Self.filters {
            for topic in Self.topics {
                #expect(matches(filter, topic) == Topic.matches(filter: filter, topic: topic), "\(filter) on \(topic)")
            }
        }
    }

    @Test func coveringMeansMatchingEveryTopicTheOtherMatches() {
        // Checked against the topics above, plus what the covering rules say.
        for outer in Self.filters {
            for inner in Self.filters where TopicFilter(compiling: outer).covers(TopicFilter(compiling: inner)) {
                for topic in Self.topics where matches(inner, topic) {
                    #expect(matches(outer, topic), "\(outer) covers \(inner), but not \(topic)")
                }
            }
        }
        let covered: [(String, String, Bool)] = [
            ("#", "a/#", true), ("a/#", "a", true), ("a/#", "a/+/c", true), ("a/+", "a/b", true), ("+/+", "a/+", true),
            ("a/+", "a/#", false), ("a", "a/#", false), ("#", "$SYS/#", false), ("+/#", "$SYS/x", false),
            ("$SYS/#", "$SYS/+", true), ("+", "a/b", false), ("a/b", "a/+", false),
        ]
        for (outer, inner, expected) in covered {
            #expect(TopicFilter(compiling: outer).covers(TopicFilter(compiling: inner)) == expected, "\(outer) covers \(inner)")
        }
    }

    @Test func intersectionMatchesExactlyTheTopicsBothMatch() {
        for left in Self.filters {
            for right in Self.filters {
                let common = TopicFilter(compiling: left).intersection(TopicFilter(compiling: right))
                for topic in Self.topics {
                    let both = matches(left, topic) && matches(right, topic)
                    let inCommon = common.map { filter in
                        var topic = topic
                        return topic.withUTF8 { filter.matches($0) }
                    } ?? false
                    #expect(inCommon == both, "\(left) ∩ \(right) = \(common?.description ?? "none") on \(topic)")
                }
            }
        }
        let expected: [(String, String, String?)] = [
            ("a/#", "+/b/#", "a/b/#"), ("a/+", "+/b", "a/b"), ("a/#", "a", "a"), ("#", "$SYS/#", nil),
            ("+/+", "$SYS/x", nil), ("a/+", "b/+", nil), ("a/+", "a/+/c", nil), ("$SYS/#", "$SYS/+", "$SYS/+"),
        ]
        for (left, right, common) in expected {
            #expect(TopicFilter(compiling: left).intersection(TopicFilter(compiling: right))?.description == common, "\(left) ∩ \(right)")
        }
    }
}

@Suite("Compiled filters at 65,535 levels", .timeLimit(.minutes(5)))
struct DeepTopicFilterTests {
    @Test func matchingCoveringAndIntersectingDoNotRecurse() async throws {
        try await offloaded { Self.checkTheDeepestFilters() }
    }

    private static func checkTheDeepestFilters() {
        let deepestTopic = String(repeating: "/", count: 65_534)
        let wildcards = TopicFilter(compiling: String(repeating: "+/", count: 32_767) + "#")
        let exact = TopicFilter(compiling: deepestTopic)
        #expect(wildcards.matches(deepestTopic))
        #expect(exact.matches(deepestTopic))
        #expect(!exact.matches(String(repeating: "/", count: 65_533)))
        #expect(TopicFilter(compiling: "#").covers(exact))
        #expect(wildcards.intersection(exact) == exact)
    }
}
