import Foundation
import Testing
@testable import Rules

@Suite("Actions, modes, cooldown, loop guard", .timeLimit(.minutes(5))) struct ActionTests {
    let plug = """
        id: desk-plug
        name: Desk plug
        convention: tasmota
        actuators:
          power:
            command_topic: cmnd/desk-plug/POWER
            state_topic: stat/desk-plug/POWER
            payloads: { on: "ON", off: "OFF", toggle: "TOGGLE" }
            qos: 1
        """
    let lamp = """
        id: lamp
        actuators:
          light: { command_topic: lamp/set }
        """

    @Test func setToggleAndPublish() throws {
        var harness = try Harness(devices: [livingroomNode, plug, lamp], rules: """
            - id: buttons
              when: { mqtt: buttons/go }
              then:
                - set: desk-plug.power
                  to: on
                - toggle: desk-plug.power
                - toggle: livingroom-node.led
                - toggle: lamp.light
                - publish: { topic: "notify/{{ rule.id }}", payload: "{{ devices.desk-plug.name }} {{ devices.livingroom-node.led }}", qos: 2, retain: true }
            """)
        harness.send("home/livingroom-node/led", "on")
        let outputs = harness.send("buttons/go", "")
        #expect(outputs.published == [
            "cmnd/desk-plug/POWER ON", "cmnd/desk-plug/POWER TOGGLE", "home/livingroom-node/led/set off", "lamp/set ON",
            "notify/buttons Desk plug on",
        ])
        #expect(outputs.publications[0].qos == 1)
        #expect(outputs.publications[0].actuator == QualifiedName(device: "desk-plug", member: "power"))
        #expect(outputs.publications[4].qos == 2 && outputs.publications[4].retain)
        // The lamp has no state topic: its state is assumed from the command.
        #expect(outputs.actuatorUpdates.map { "\($0.device).\($0.actuator) \($0.state) assumed:\($0.assumed)" } == [
            "lamp.light on assumed:true",
        ])
        #expect(harness.send("buttons/go", "").published.contains("lamp/set OFF"))
    }

    @Test func delayPausesTheRun() throws {
        var harness = try Harness(rules: """
            - id: blink
              when: { mqtt: buttons/go }
              then:
                - set: livingroom-node.led
                  to: on
                - delay: 2s
                - set: livingroom-node.led
                  to: off
            """)
        #expect(harness.send("buttons/go", "").published == ["home/livingroom-node/led/set on"])
        #expect(harness.engine.pendingTimers.map(\.purpose) == [.resume(rule: "blink")])
        #expect(harness.advance(1.999).isEmpty)
        let resumed = harness.advance(0.001)
        #expect(resumed.published == ["home/livingroom-node/led/set off"])
        #expect(resumed.first?.origin == 1)
    }

    func modeRule(_ mode: String) -> String {
        """
        - id: run
          mode: \(mode)
          when: { mqtt: buttons/go }
          then:
            - publish: { topic: t, payload: "start {{ trigger.payload }}" }
            - delay: 10s
            - publish: { topic: t, payload: "end {{ trigger.payload }}" }
        """
    }

    @Test func modeSingleIgnoresFiringsWhileRunning() throws {
        var harness = try Harness(rules: modeRule("single"))
        harness.send("buttons/go", "1")
        harness.advance(5)
        let second = harness.send("buttons/go", "2")
        #expect(second.published.isEmpty)
        #expect(second.reasons("run") == ["message '2' on buttons/go, but its actions are still running (mode single)"])
        #expect(harness.advance(20).published == ["t end 1"])
    }

    @Test func modeRestartStartsAgain() throws {
        var harness = try Harness(rules: modeRule("restart"))
        harness.send("buttons/go", "1")
        harness.advance(5)
        let second = harness.send("buttons/go", "2")
        #expect(second.published == ["t start 2"])
        #expect(second.reasons("run") == ["message '2' on buttons/go (restarted the running actions)"])
        #expect(harness.advance(20).published == ["t end 2"])
    }

    @Test func modeQueuedRunsInTurn() throws {
        var harness = try Harness(rules: modeRule("queued"))
        harness.send("buttons/go", "1")
        harness.advance(5)
        #expect(harness.send("buttons/go", "2").decisions("run") == [.queued])
        harness.send("buttons/go", "3")
        #expect(harness.advance(60).published == ["t end 1", "t start 2", "t end 2", "t start 3", "t end 3"])
        #expect(harness.now == testStart.addingTimeInterval(65))
    }

    @Test func queueIsBounded() throws {
        var harness = try Harness(rules: modeRule("queued"))
        harness.send("buttons/go", "0")
        for index in 1...RuleMode.queueLimit { harness.send("buttons/go", "\(index)") }
        let overflow = harness.send("buttons/go", "x")
        #expect(overflow.problems.map(\.message) == ["rule 'run' has 10 runs queued; a firing was dropped"])
    }

    @Test func cooldown() throws {
        var harness = try Harness(rules: """
            - id: doorbell
              when: { mqtt: doorbell }
              cooldown: 40s
              then: [{ publish: { topic: chime, payload: ding } }]
            """)
        #expect(harness.send("doorbell", "").published == ["chime ding"])
        harness.advance(10)
        let soon = harness.send("doorbell", "")
        #expect(soon.published.isEmpty)
        #expect(soon.reasons("doorbell") == ["message '' on doorbell, but in cooldown until 08:00:40"])
        harness.advance(30)
        #expect(harness.send("doorbell", "").published == ["chime ding"])
    }

    @Test func loopGuardSuspendsRulesDrivingEachOther() throws {
        var harness = try Harness(devices: [lamp, """
            id: fan
            actuators:
              motor: { command_topic: fan/set }
            """], rules: """
            - id: kick
              when: { mqtt: kick }
              then: [{ toggle: lamp.light }]
            - id: lamp-drives-fan
              when: { actuator: lamp.light, fire_on_first_value: true }
              then: [{ toggle: fan.motor }]
            - id: fan-drives-lamp
              when: { actuator: fan.motor, fire_on_first_value: true }
              then: [{ toggle: lamp.light }]
            """)
        let outputs = harness.send("kick", "")
        #expect(outputs.problems.count == 1)
        let problem = try #require(outputs.problems.first)
        #expect(problem.message == """
            rule 'lamp-drives-fan' ran more than 20 times within 10 s and is suspended until the rules are reloaded: \
            rules may be triggering each other in a loop
            """)
        #expect(outputs.publications.count <= 43)
        #expect(harness.engine.ruleStatuses.first { $0.id == "lamp-drives-fan" }?.suspended == true)
        // Suspended rules stay quiet.
        let again = harness.send("kick", "")
        #expect(again.published == ["lamp/set ON"] || again.published == ["lamp/set OFF"])
        #expect(again.reasons("lamp-drives-fan").last?.hasSuffix("suspended by the loop guard until the rules are reloaded") == true)
    }
}
