@testable import MQTTTopics
import Testing

@Suite("Topic names and filters (§4.7)", .timeLimit(.minutes(5)))
struct TopicTests {
    @Test("valid topic names", arguments: [
        "a", "/", "//", "sport/tennis/player1", "/finance", "finance/", "$SYS/broker/uptime", " ", "a b",
        "température/°C", "ACCOUNTS",
    ])
    func validName(_ name: String) throws {
        try Topic.validateName(name)
    }

    @Test("invalid topic names", arguments: [
        ("", Topic.SyntaxError.empty),
        ("sport/+", .wildcardInName), ("sport/#", .wildcardInName), ("#", .wildcardInName), ("+", .wildcardInName),
        ("a+b", .wildcardInName), ("a#", .wildcardInName),
        ("a\0b", .disallowedCharacter("\0")), ("a\nb", .disallowedCharacter("\n")),
    ])
    func invalidName(_ name: String, error: Topic.SyntaxError) {
        #expect(throws: error) { try Topic.validateName(name) }
    }

    @Test("names and filters may take up to 65,535 bytes")
    func length() throws {
        try Topic.validateName(String(repeating: "x", count: 65_535))
        try Topic.validateFilter(String(repeating: "x", count: 65_533) + "/#")
        #expect(throws: Topic.SyntaxError.tooLong) { try Topic.validateName(String(repeating: "x", count: 65_536)) }
        #expect(throws: Topic.SyntaxError.tooLong) { try Topic.validateFilter(String(repeating: "+", count: 65_536)) }
    }

    @Test("valid topic filters", arguments: [
        "sport/tennis/player1/#", "sport/tennis/#", "sport/#", "#", "+", "/+", "+/+", "sport/+/player1",
        "+/tennis/#", "sport/+", "$SYS/#", "$SYS/monitor/+", "//", "/", "a//+//#", "plain",
    ])
    func validFilter(_ filter: String) throws {
        try Topic.validateFilter(filter)
    }

    @Test("invalid topic filters", arguments: [
        ("", Topic.SyntaxError.empty),
        ("sport/tennis#", .partialLevelWildcard), ("sport+", .partialLevelWildcard), ("sport/+tennis", .partialLevelWildcard),
        ("++", .partialLevelWildcard), ("+#", .partialLevelWildcard), ("##", .partialLevelWildcard),
        ("#/a", .misplacedMultiLevelWildcard), ("sport/tennis/#/ranking", .misplacedMultiLevelWildcard),
        ("#/", .misplacedMultiLevelWildcard), ("a/#/#", .misplacedMultiLevelWildcard),
        ("a\0", .disallowedCharacter("\0")), ("a/\u{FFFF}", .disallowedCharacter("\u{FFFF}")),
    ])
    func invalidFilter(_ filter: String, error: Topic.SyntaxError) {
        #expect(throws: error) { try Topic.validateFilter(filter) }
    }

    @Test("matching, with the examples of §4.7.1 and §4.7.2", arguments: [
        ("sport/tennis/player1/#", "sport/tennis/player1", true),
        ("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
        ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true),
        ("sport/tennis/player1/#", "sport/tennis/player2", false),
        ("sport/#", "sport", true),
        ("sport/#", "sport/", true),
        ("#", "sport/tennis", true),
        ("#", "/", true),
        ("sport/tennis/+", "sport/tennis/player1", true),
        ("sport/tennis/+", "sport/tennis/player2", true),
        ("sport/tennis/+", "sport/tennis/player1/ranking", false),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("sport/+/player1", "sport/tennis/player1", true),
        ("sport/+/player1", "sport/tennis/player2", false),
        ("+/+", "/finance", true),
        ("/+", "/finance", true),
        ("+", "/finance", false),
        ("+", "finance", true),
        ("+/tennis/#", "sport/tennis/player1", true),
        // §4.7.2: a filter starting with a wildcard does not match a $ topic.
        ("#", "$SYS/monitor/Clients", false),
        ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ("+", "$SYS", false),
        ("$SYS/#", "$SYS/monitor/Clients", true),
        ("$SYS/#", "$SYS", true),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
        ("$SYS/+/Clients", "$SYS/monitor/Clients", true),
        ("#", "a/$SYS", true),
        // Topics are case sensitive and compared byte by byte.
        ("ACCOUNTS", "Accounts", false),
        ("ACCOUNTS", "ACCOUNTS", true),
        ("caf\u{E9}", "cafe\u{301}", false),
        // Empty levels are levels.
        ("a//b", "a//b", true),
        ("a/+/b", "a//b", true),
        ("a/b", "a//b", false),
        ("+/+", "/", true),
        ("/#", "/", true),
        ("+", "/", false),
        ("a/#", "a//", true),
        ("sport/tennis", "sport/tennis/", false),
    ])
    func matching(filter: String, topic: String, matches: Bool) {
        #expect(Topic.matches(filter: filter, topic: topic) == matches)
    }

    @Test("levels are split on the byte '/', keeping empty levels")
    func levels() {
        #expect(Topic.levels("a//b") == ["a", "", "b"])
        #expect(Topic.levels("/") == ["", ""])
        #expect(Topic.levels("a") == ["a"])
        // A combining mark after '/' joins it into one Character, yet '/' still separates levels.
        #expect(Topic.levels("a/\u{301}b") == ["a", "\u{301}b"])
        #expect(Topic.matches(filter: "a/+", topic: "a/\u{301}b"))
    }

    @Test("system topics and wildcard filters are recognised")
    func classification() {
        #expect(Topic.isSystem("$SYS/broker"))
        #expect(!Topic.isSystem("home/$SYS"))
        #expect(Topic.isWildcard("a/+"))
        #expect(Topic.isWildcard("#"))
        #expect(!Topic.isWildcard("a/b"))
    }
}
