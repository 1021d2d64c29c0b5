import Foundation
import Testing
@testable import Rules

@Suite("Templates in actions, and the topic index", .timeLimit(.minutes(5))) struct TemplateAndIndexTests {
    @Test func everyTemplateVariable() throws {
        var harness = try Harness(devices: [livingroomNode, "{ id: plug, name: Desk plug, room: office, convention: tasmota }"], rules: """
            - id: report
              description: Reports everything
              when: { sensor: livingroom-node.temperature, above: 28 }
              then:
                - publish:
                    topic: "report/{{ trigger.device }}"
                    payload: >-
                      {{ trigger.kind }}|{{ trigger.topic }}|{{ trigger.payload }}|{{ trigger.value }}|{{ trigger.previous }}|
                      {{ device.id }}|{{ device.name }}|{{ device.room }}|{{ device.presence }}|{{ device.temperature }}|{{ device.led }}|
                      {{ devices.plug.name }}|{{ devices.plug.room }}|{{ devices.plug.presence }}|
                      {{ rule.id }}|{{ rule.description }}|{{ now }}|{{ now.date }}|{{ now.time }}
            """)
        harness.startNode(temperature: 20)
        let outputs = harness.temperature(28.5)
        #expect(outputs.published == [
            "report/livingroom-node sensor|home/livingroom-node/temperature|28.5|28.5|20| livingroom-node|Living room ESP8266||online|28.5|| "
                + "Desk plug|office|unknown| report|Reports everything|2025-03-03 08:00:00|2025-03-03|08:00:00",
        ])
    }

    @Test func aMessageReachesOnlyTheRulesThatReferenceIt() throws {
        var rules = ""
        for index in 0..<1000 {
            rules += """
                - id: unrelated-\(index)
                  when: { mqtt: "other/\(index)/+" }
                  then: [{ publish: { topic: x, payload: y } }]

                """
        }
        rules += hotRoomRule
        var harness = try Harness(rules: rules)
        harness.startNode(temperature: 20)
        let outputs = harness.temperature(29)
        #expect(Set(outputs.traces.map(\.rule)) == ["hot-room-led"])
        #expect(harness.send("other/7/a", "").traces.map(\.rule) == ["unrelated-7"])
    }

    @Test func homeTopicsAreEverythingToSubscribeTo() throws {
        let home = try validHome(devices: ["node.yaml": livingroomNode, "plug.yaml": "{ id: plug, convention: tasmota }"], rules: [
            "r.yaml": """
                - id: buttons
                  when: [{ mqtt: "buttons/#" }, { sensor: livingroom-node.temperature, above: 30 }]
                  then: [{ publish: { topic: x, payload: y } }]
                - id: disabled
                  enabled: false
                  when: { mqtt: "ignored/#" }
                  then: [{ publish: { topic: x, payload: y } }]
                """,
        ])
        #expect(home.topics == [
            "home/livingroom-node/status", "home/livingroom-node/temperature", "home/livingroom-node/motion",
            "home/livingroom-node/mode", "home/livingroom-node/led", "tele/plug/LWT", "buttons/#",
        ])
    }

    @Test func disabledRulesNeverRun() throws {
        var harness = try Harness(rules: """
            - id: off
              enabled: false
              when: { mqtt: go }
              then: [{ publish: { topic: x, payload: y } }]
            """)
        #expect(harness.send("go", "").isEmpty)
    }

    @Test func aRenderedTopicThatIsInvalidIsAProblemNotACrash() throws {
        var harness = try Harness(rules: """
            - id: echo
              when: { mqtt: "in/#" }
              then: [{ publish: { topic: "out/{{ trigger.payload }}", payload: "" } }]
            """)
        let outputs = harness.send("in/x", "a/+/b")
        #expect(outputs.publications.isEmpty)
        #expect(outputs.problems.map(\.message) == [
            "rule 'echo' did not publish: topic 'out/a/+/b' from 'out/{{ trigger.payload }}' is invalid: "
                + "a topic name must not contain the wildcards '+' or '#'",
        ])
    }

    @Test("a rendered topic is checked by the broker's rules: a tab is refused, not published")
    func aRenderedTopicWithAControlCharacterIsAProblem() throws {
        var harness = try Harness(rules: """
            - id: echo
              when: { mqtt: "in/#" }
              then: [{ publish: { topic: "out/{{ trigger.payload }}", payload: "x" } }]
            """)
        let outputs = harness.send("in/x", "a\tb")
        #expect(outputs.publications.isEmpty)
        #expect(outputs.problems.map(\.message) == [
            "rule 'echo' did not publish: topic 'out/a\tb' from 'out/{{ trigger.payload }}' is invalid: "
                + "a topic must not contain the control character U+0009",
        ])
    }
}
