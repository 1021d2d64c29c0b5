import Foundation
import Testing
@testable import Rules

@Suite("Less common paths", .timeLimit(.minutes(5))) struct EdgeCaseTests {
    @Test func fromOnlyFiresWhenTheValueLeaves() throws {
        var harness = try Harness(rules: """
            - id: left-away
              when: { sensor: livingroom-node.mode, from: away }
              then: [{ publish: { topic: t, payload: "back: {{ trigger.value }}" } }]
            """)
        harness.startNode()
        harness.send("home/livingroom-node/mode", "home")
        #expect(harness.send("home/livingroom-node/mode", "eco").published.isEmpty)
        harness.send("home/livingroom-node/mode", "away")
        #expect(harness.send("home/livingroom-node/mode", "home").published == ["t back: home"])
        #expect(harness.send("home/livingroom-node/mode", "eco").published.isEmpty)
    }

    @Test func booleanSensorWithItsOwnPayloads() throws {
        var harness = try Harness(devices: ["""
            id: door
            sensors:
              open: { topic: door/contact, type: boolean, payloads: { on: OPEN, off: CLOSED } }
            """], rules: """
            - id: opened
              when: { sensor: door.open, to: true }
              then: [{ publish: { topic: t, payload: opened } }]
            """)
        harness.send("door/contact", "CLOSED")
        #expect(harness.send("door/contact", "OPEN").published == ["t opened"])
        #expect(harness.send("door/contact", "ajar").ignored.map(\.reason) == ["sensor door.open: 'ajar' is not true or false"])
    }

    @Test func zigbee2mqttJSONStateForAnActuator() throws {
        var harness = try Harness(devices: ["""
            id: bulb
            convention: zigbee2mqtt
            actuators:
              light: { command_topic: zigbee2mqtt/bulb/set, state_topic: zigbee2mqtt/bulb, state_path: state }
            """], rules: """
            - id: bulb-on
              when: { actuator: bulb.light, to: on }
              then: [{ publish: { topic: t, payload: "bulb on" } }]
            """)
        harness.send("zigbee2mqtt/bulb", #"{"state":"OFF","brightness":10}"#)
        #expect(harness.send("zigbee2mqtt/bulb", #"{"state":"ON","brightness":200}"#).published == ["t bulb on"])
    }

    @Test func thenReplacesARunningOtherwiseInAnyMode() throws {
        var harness = try Harness(rules: """
            - id: hot
              when: { sensor: livingroom-node.temperature, above: 28 }
              then: [{ set: livingroom-node.led, to: on }]
              otherwise:
                - delay: 1m
                - set: livingroom-node.led
                  to: off
            """)
        harness.startNode(temperature: 29.5)
        harness.temperature(25)
        harness.temperature(26)
        harness.advance(10)
        #expect(harness.temperature(29).published == ["home/livingroom-node/led/set on"])
        // The pending "off" of the otherwise run is gone.
        #expect(harness.advance(120).published.isEmpty)
    }

    @Test func otherwiseWaitsForEveryLevelTriggerToStop() throws {
        var harness = try Harness(rules: """
            - id: warm-or-busy
              when:
                - { sensor: livingroom-node.temperature, above: 25 }
                - { sensor: livingroom-node.motion, to: true }
              then: [{ set: livingroom-node.led, to: on }]
              otherwise: [{ set: livingroom-node.led, to: off }]
            """)
        harness.startNode(temperature: 20)
        harness.send("home/livingroom-node/motion", "false")
        #expect(harness.temperature(26).published == ["home/livingroom-node/led/set on"])
        #expect(harness.send("home/livingroom-node/motion", "true").published == ["home/livingroom-node/led/set on"])
        let cooled = harness.temperature(20)
        #expect(cooled.published.isEmpty)
        #expect(cooled.reasons("warm-or-busy") == ["temperature 20 is no longer above 25, but another of its triggers still holds"])
        #expect(harness.send("home/livingroom-node/motion", "false").published == ["home/livingroom-node/led/set off"])
    }

    @Test func aRetainedFirstMessageSetsWhereAnMQTTHoldStands() throws {
        var harness = try Harness(rules: """
            - id: stuck-open
              when: { mqtt: door/state, payload: open, for: 10s }
              then: [{ publish: { topic: t, payload: stuck } }]
              otherwise: [{ publish: { topic: t, payload: closed } }]
            """)
        harness.send("door/state", "open", retained: true)
        #expect(harness.advance(60).published.isEmpty)
        #expect(harness.send("door/state", "closed").published == ["t closed"])
    }

    @Test func sleepingIsAPresenceStateOfItsOwn() throws {
        var harness = try Harness(devices: ["{ id: thermostat, convention: homie, sensors: { t: { topic: homie/thermostat/t, type: number } } }"], rules: """
            - id: napping
              when: { device: thermostat, goes: sleeping }
              if: [{ sensor: thermostat.t, above: 0 }]
              then: [{ publish: { topic: t, payload: "asleep at {{ devices.thermostat.t }}" } }]
            """)
        harness.send("homie/thermostat/$state", "ready")
        harness.send("homie/thermostat/t", "19")
        // Sleeping is not offline: values stay current.
        #expect(harness.send("homie/thermostat/$state", "sleeping").published == ["t asleep at 19"])
    }
}
