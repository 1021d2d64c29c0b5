import Foundation
import Testing
import TestSupport
@testable import Rules

@Suite("Actuators with a number or a choice", .timeLimit(.minutes(5))) struct ValuedActuatorTests {
    static let lamp = zigbeeDeskLamp
    static let thermostat = """
        id: thermostat
        actuators:
          setpoint: { type: number, min: 5, max: 30, step: 0.5, command_topic: heating/setpoint/set }
          mode:
            type: choice
            options: [off, heat, auto]
            command_topic: heating/mode/set
            state_topic: heating/mode
        """

    @Test func setSendsTheValueThroughTheTemplate() throws {
        var harness = try Harness(devices: [Self.lamp, Self.thermostat], rules: """
            - id: evening
              when: { mqtt: buttons/evening }
              then:
                - set: desk-lamp.brightness
                  to: 40
                - set: thermostat.setpoint
                  to: 20.5
                - set: thermostat.mode
                  to: Heat
                - set: desk-lamp.light
                  to: on
            """)
        #expect(harness.send("buttons/evening", "").published == [
            #"zigbee2mqtt/desk-lamp/set {"brightness": 40}"#, "heating/setpoint/set 20.5", "heating/mode/set heat",
            #"zigbee2mqtt/desk-lamp/set {"state":"ON"}"#,
        ])
    }

    @Test func theEchoReadsAsASensorForTriggersConditionsAndTemplates() throws {
        var harness = try Harness(devices: [Self.lamp, Self.thermostat], rules: """
            - id: too-bright
              when:
                sensor: desk-lamp.brightness
                above: 200
              if:
                sensor: desk-lamp.brightness
                below: 255
              then:
                - publish: { topic: notify, payload: "{{ device.brightness }} {{ trigger.value }}" }
            - id: heating-on
              when: { sensor: thermostat.mode, to: heat }
              then:
                - publish: { topic: notify, payload: "mode {{ devices.thermostat.mode }}" }
            """)
        // One Zigbee2MQTT state message carries the light's state and its brightness.
        harness.send("zigbee2mqtt/desk-lamp", #"{"state":"ON","brightness":120}"#)
        let outputs = harness.send("zigbee2mqtt/desk-lamp", #"{"state":"ON","brightness":230}"#)
        #expect(outputs.published == ["notify 230 230"])
        #expect(outputs.sensorUpdates.map { "\($0.sensor) \($0.value)" } == ["brightness 230"])
        #expect(outputs.actuatorUpdates.map { "\($0.actuator) \($0.state)" } == ["light on"])
        harness.send("heating/mode", "off")
        #expect(harness.send("heating/mode", "heat").published == ["notify mode heat"])
    }

    @Test func aValueOutsideWhatTheActuatorTakesIsAnErrorAtItsLine() {
        let rules = """
            - id: r
              when: { mqtt: go }
              then:
                - set: desk-lamp.brightness
                  to: 400
                - set: desk-lamp.brightness
                  to: bright
                - set: thermostat.setpoint
                  to: 20.3
                - set: thermostat.mode
                  to: haet
                - toggle: desk-lamp.brightness
                - set: desk-lamp.light
                  to: 40
            """
        #expect(errors(devices: ["lamp.yaml": Self.lamp, "thermostat.yaml": Self.thermostat], rules: ["r.yaml": rules]) == [
            "rules/r.yaml:5:11: error: 'desk-lamp.brightness' takes a number from 0 to 254; 400 is out of range",
            "rules/r.yaml:7:11: error: 'desk-lamp.brightness' takes a number from 0 to 254; 'bright' is not a number",
            "rules/r.yaml:9:11: error: 'thermostat.setpoint' takes a number from 5 to 30 in steps of 0.5; "
                + "20.3 is not 5 plus a whole number of steps",
            "rules/r.yaml:11:11: error: 'thermostat.mode' takes one of off, heat, auto; 'haet' is not one of them; did you mean 'heat'?",
            "rules/r.yaml:12:15: error: 'desk-lamp.brightness' is a number actuator, not on and off: set it with 'set' and 'to'",
            "rules/r.yaml:14:11: error: expected on or off for 'to', found '40'",
        ])
    }

    @Test func anActuatorTriggerOnAValueSaysToUseSensor() {
        let rules = """
            - id: r
              when: { actuator: thermostat.mode, to: heat }
              then: [{ publish: { topic: t } }]
            """
        #expect(errors(devices: ["thermostat.yaml": Self.thermostat], rules: ["r.yaml": rules]) == [
            "rules/r.yaml:2:21: error: 'thermostat.mode' is a choice actuator, not on and off: test its value with 'sensor: thermostat.mode'",
        ])
    }

    @Test func theDeviceFileIsChecked() {
        let device = """
            id: bad
            actuators:
              a: { type: dimmer, command_topic: x }
              b: { type: number, min: 10, max: 10, command_topic: x }
              c: { type: number, max: 10, command_topic: x }
              d: { type: choice, options: [a, A], command_topic: x }
              e: { min: 0, command_topic: x }
              f: { type: number, min: 0, max: 1, payloads: { on: "1" }, command_topic: x }
              g: { type: number, min: 0, max: 1, command_topic: x, command_template: "{{ value }} {{ device.id }}" }
              h: { type: choice, options: [a], command_topic: x, command_template: "mode" }
              i: { type: number, min: 0, max: 1, step: 0, command_topic: x }
            """
        #expect(errors(devices: ["bad.yaml": device]) == [
            "devices/bad.yaml:3:14: error: unknown actuator type 'dimmer'; use switch, number or choice",
            "devices/bad.yaml:4:6: error: 'min' (10) must be below 'max' (10)",
            "devices/bad.yaml:5:6: error: number actuator 'c' needs 'min'",
            "devices/bad.yaml:6:31: error: 'A' is in 'options' twice (options match in any case)",
            "devices/bad.yaml:7:8: error: 'min' applies to number actuators; 'e' is a switch (give 'type')",
            "devices/bad.yaml:8:38: error: 'payloads' applies to switch actuators; 'f' is a number (give 'type')",
            "devices/bad.yaml:9:74: error: unknown template variable 'device.id' in 'command_template': it has only {{ value }}",
            "devices/bad.yaml:10:72: error: 'command_template' needs {{ value }} once, where the value goes",
            "devices/bad.yaml:11:44: error: 'step' must be above 0",
        ])
    }

    @Test func aCommandPayloadReadsBackThroughItsTemplate() throws {
        let home = try validHome(devices: ["lamp.yaml": Self.lamp, "thermostat.yaml": Self.thermostat])
        let lamp = try #require(home.device(id: "desk-lamp"))
        let brightness = try #require(lamp.actuator(named: "brightness"))
        #expect(brightness.setting(commandedBy: #"{"brightness": 40}"#) == .number(40))
        #expect(brightness.setting(commandedBy: #"{"brightness": 999}"#) == nil)
        #expect(brightness.setting(commandedBy: #"{"state": "ON"}"#) == nil)
        #expect(lamp.actuator(named: "light")?.setting(commandedBy: #"{"state":"ON"}"#) == .state(.on))
        let mode = try #require(home.device(id: "thermostat")?.actuator(named: "mode"))
        #expect(mode.setting(commandedBy: "AUTO") == .option("auto"))
        // The echo is a sensor of the device's, not a second topic for the actuator.
        #expect(lamp.sensors.map(\.name) == ["brightness"])
        #expect(lamp.isEcho(lamp.sensors[0]))
        #expect(home.summary == "2 devices, 0 sensors, 4 actuators, 0 rules")
        #expect(lamp.topics == ["zigbee2mqtt/desk-lamp/availability", "zigbee2mqtt/desk-lamp", "zigbee2mqtt/desk-lamp"])
    }

    @Test func settingsAreReadAsTheyAreTyped() throws {
        let home = try validHome(devices: ["thermostat.yaml": Self.thermostat])
        let thermostat = try #require(home.device(id: "thermostat"))
        let setpoint = try #require(thermostat.actuator(named: "setpoint"))
        #expect(try setpoint.setting(named: " 21 ").get() == .number(21))
        #expect(try setpoint.setting(named: "5").get() == .number(5))
        #expect(throws: SettingProblem.self) { try setpoint.setting(named: "30.5").get() }
        #expect(throws: SettingProblem.self) { try setpoint.setting(named: "nan").get() }
        #expect(setpoint.commandPayload(for: .number(21)) == "21")
        #expect(try thermostat.actuator(named: "mode")?.setting(named: "OFF").get() == .option("off"))
    }
}
