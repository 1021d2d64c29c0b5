import Foundation
import Rules
import TestSupport
import Testing

/// Aliases make a YAML file stand for far more than its text: every file
/// HomeRules reads is refused at `file:line:column` when it nests deeper or
/// expands further than `YAMLBounds` allows, before anything walks it.
@Suite("YAML depth and alias expansion are bounded", .timeLimit(.minutes(5)))
struct YAMLBoundsTests {
    @Test func aChainOf10000AliasesIsRefusedWhereItGetsTooDeep() async throws {
        let found = try await offloaded { errors(rules: ["chain.yaml": HostileYAML.aliasChain(length: 10_000)]) }
        // The top list, c32's mapping and its list, then *c31 with 62 levels: 65.
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("rules/chain.yaml:35:15: error: YAML nested deeper than 64 levels") == true)
    }

    @Test func aBillionLaughsIsRefusedAtTheAliasThatGoesBeyondTheBound() async throws {
        let found = try await offloaded { errors(devices: ["lol.yaml": HostileYAML.billionLaughs]) }
        #expect(found.first?.hasPrefix("devices/lol.yaml:6:") == true)
        #expect(found.first?.contains("more than 100,000 YAML nodes") == true)
    }

    @Test func depthIsTakenUpToTheBoundAndRefusedOneBeyond() {
        let atBound = String(repeating: "[", count: 63) + "x" + String(repeating: "]", count: 63)
        #expect(YAMLBounds.violation(in: atBound) == nil)
        let beyond = String(repeating: "[", count: 64) + "x" + String(repeating: "]", count: 64)
        let violation = YAMLBounds.violation(in: beyond)
        #expect(violation?.line == 1)
        #expect(violation?.column == 65)
    }

    @Test func textNestedFarBeyondLibyamlsOwnLimitIsRefusedAsTooDeep() async throws {
        // libyaml refuses 1,000 open levels while it looks ahead, before any event reaches the bound.
        let found = try await offloaded { errors(rules: ["deep.yaml": String(repeating: "[", count: 100_000)]) }
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("rules/deep.yaml:1:") == true)
        #expect(found.first?.contains("YAML nested deeper than 64 levels; HomeRules reads at most 64") == true)
    }

    @Test func nodesAreTakenUpToTheBoundAndRefusedOneBeyond() async throws {
        // A list counts as one node, and each of its items as one more. Off the task threads: a second of work.
        let atBound = "[" + Array(repeating: "1", count: 99_999).joined(separator: ",") + "]"
        let beyond = "[" + Array(repeating: "1", count: 100_000).joined(separator: ",") + "]"
        let found = try await offloaded { (YAMLBounds.violation(in: atBound), YAMLBounds.violation(in: beyond)) }
        #expect(found.0 == nil)
        #expect(found.1?.message.contains("more than 100,000 YAML nodes") == true)
    }

    @Test func anAliasUsedAsAKeyCountsLikeAnyOtherUse() async throws {
        // Up to l4 the file holds about 75,000 nodes; one more use of l4 is too many.
        let text = HostileYAML.billionLaughs.split(separator: "\n").prefix(5).joined(separator: "\n") + "\n? *l4\n: x\n"
        let line = try await offloaded { YAMLBounds.violation(in: text)?.line }
        #expect(line == 6)
    }

    @Test func eachDocumentOfAFileHasItsOwnCount() async throws {
        let document = "[" + Array(repeating: "1", count: 60_000).joined(separator: ",") + "]\n"
        let found = try await offloaded { YAMLBounds.violation(in: document + "---\n" + document) }
        #expect(found == nil)
    }

    @Test func syntaxErrorsAreLeftToTheParserThatReportsThem() {
        #expect(YAMLBounds.violation(in: "a: [1, 2\nb: *undefined\n") == nil)
        #expect(errors(rules: ["bad.yaml": "- id: r\n  when: *nothing\n"]).first?.contains("alias") == true)
    }
}
