import Testing
@testable import Rules

/// `rules check` applies the broker's own topic rules (the shared
/// `MQTTTopics` target), so that what it accepts `serve` accepts.
@Suite("Topics in devices and rules are checked as the broker checks them", .timeLimit(.minutes(5)))
struct TopicCheckTests {
    @Test func aTabInATopicIsRefusedWhereItIsWritten() {
        let found = errors(devices: ["node.yaml": """
            id: node
            sensors:
              temperature: { topic: "home/node\\ttemperature", type: number }
            """])
        #expect(found == [
            "devices/node.yaml:3:25: error: invalid topic 'home/node\ttemperature' for 'topic': "
                + "a topic must not contain the control character U+0009",
        ])
    }

    @Test func aControlCharacterInAnMQTTTriggerFilterIsRefused() {
        let found = errors(rules: ["r.yaml": """
            - id: r
              when: { mqtt: "in/\\u0001/#" }
              then: [{ publish: { topic: out, payload: x } }]
            """])
        #expect(found == [
            "rules/r.yaml:2:17: error: invalid topic filter 'in/\u{1}/#': a topic must not contain the control character U+0001",
        ])
    }
}
