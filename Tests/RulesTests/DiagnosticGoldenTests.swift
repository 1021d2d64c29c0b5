import Foundation
import Testing
@testable import Rules

/// Exact error messages, with exact lines and columns.
@Suite("Error messages", .timeLimit(.minutes(5))) struct DiagnosticGoldenTests {
    @Test func deviceErrors() {
        let found = errors(devices: ["bad.yaml": """
            - id: living room
              nmae: Oops
              presence:
                topic: home/+/status
              sensors:
                temperature: { topic: home/t, type: float }
                name: { topic: home/n, type: string }
                humidity: { topic: home/h, type: number, payloads: { on: a, off: b } }
              actuators:
                led:
                  state_topic: home/led
                  qos: 3
                  retain: maybe
            - id: plug
              convention: tasmoto
            - id: plug
              presence: { node: x }
            """])
        #expect(found == [
            "devices/bad.yaml:1:7: error: invalid id 'living room': use ASCII letters (a-z, A-Z), digits, '-' and '_' only",
            "devices/bad.yaml:2:3: error: unknown key 'nmae' in a device; did you mean 'name'?",
            "devices/bad.yaml:4:12: error: invalid topic 'home/+/status' for 'topic': a topic name must not contain the wildcards '+' or '#'",
            "devices/bad.yaml:6:41: error: unknown sensor type 'float'; use number, boolean or string",
            "devices/bad.yaml:7:5: error: 'name' cannot name a sensor or actuator: templates use it for the device itself",
            "devices/bad.yaml:8:46: error: 'payloads' applies to boolean sensors only; this one is a number",
            "devices/bad.yaml:11:7: error: actuator 'led' needs 'command_topic'",
            "devices/bad.yaml:12:12: error: expected a whole number from 0 to 2 for 'qos', found '3'",
            "devices/bad.yaml:13:15: error: expected true or false for 'retain', found 'maybe'",
            "devices/bad.yaml:15:15: error: unknown convention 'tasmoto'; did you mean 'tasmota'?",
            "devices/bad.yaml:16:7: error: duplicate device id 'plug' (first defined at devices/bad.yaml:14:3)",
            "devices/bad.yaml:17:13: error: presence needs a 'topic', a 'convention' or 'expire_after'",
            "devices/bad.yaml:17:15: error: 'node' names the device in a convention's topics; give 'convention' too",
        ])
    }

    @Test func yamlSyntaxErrors() {
        let found = errors(devices: [
            "flow.yaml": "id: broken\nsensors:\n  t: { topic: a, type: number\n",
            "dup-key.yaml": "id: dup\nname: a\nroom: x\nname: b\n",
            "tabs.yaml": "id: x\n\tname: y\n",
            "list-of-lists.yaml": "- [a, b]\n",
        ])
        #expect(found == [
            "devices/dup-key.yaml:4:1: error: the key 'name' appears twice in the same mapping (first at line 2)",
            "devices/flow.yaml:4:1: error: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping, line 3 column 6)",
            "devices/list-of-lists.yaml:1:3: error: expected a mapping for a device, found a list",
            "devices/tabs.yaml:2:1: error: invalid YAML: found a tab character that violates indentation (while scanning a plain scalar, line 1 column 5)",
        ])
    }

    @Test func triggerErrors() {
        let found = errors(devices: ["node.yaml": livingroomNode], rules: ["rules.yaml": """
            - id: first
              when: { sensor: livingroom-node.mode, above: 28 }
              then: [{ set: livingroom-node.led, to: on }]
            - id: first
              when:
                - sensor: livingroom-node.temperature
                  above: 30
                  below: 20
                - device: livingroom-node
                  goes: away
                - mqtt: "a/#/b"
                - at: "25:00"
                - cron: "* * *"
                - at: "07:00"
                  for: 5m
                - sensor: livingroom-node.temprature
                  abve: 28
                - device: livingroom-node
                  above: 3
                  goes: online
                - mqtt: x
                  for: 1m
                - sensor: livingroom-node.motion
                  actuator: livingroom-node.led
                - sensor: livingroom-node.mode
                  equals: 5
                - sensor: livingroom-node.temperature
                  equals: warm
                - sensor: livingroom-node.motion
                  to: maybe
                - sensor: livingroom-node.temperature
                  above: 20
                  for: 30 seconds
              then: [{ toggle: livingroom-node.led }]
            """])
        #expect(found == [
            "rules/rules.yaml:2:48: error: 'above' needs a number sensor; 'livingroom-node.mode' is a string",
            "rules/rules.yaml:4:7: error: duplicate rule id 'first' (first defined at rules/rules.yaml:1:3)",
            "rules/rules.yaml:6:7: error: no value is above 30 and below 20",
            "rules/rules.yaml:10:13: error: unknown presence state 'away'; use online, offline, sleeping, init or alert",
            "rules/rules.yaml:11:13: error: invalid topic filter 'a/#/b': '#' must be the last level of a filter",
            "rules/rules.yaml:12:11: error: invalid time '25:00' for 'at': write a time of day as HH:MM or HH:MM:SS, like 07:30",
            "rules/rules.yaml:13:13: error: invalid cron expression '* * *': a cron expression has 5 fields (minute hour day month weekday), found 3",
            "rules/rules.yaml:15:7: error: 'for' needs a state that holds; a time trigger is a moment",
            "rules/rules.yaml:16:15: error: device 'livingroom-node' has no sensor 'temprature'; did you mean 'temperature'?",
            "rules/rules.yaml:17:7: error: unknown key 'abve' in a trigger; did you mean 'above'?",
            "rules/rules.yaml:19:7: error: 'above' does not apply to a device trigger",
            "rules/rules.yaml:22:7: error: 'for' on an mqtt trigger needs a 'payload' that must stay the last message that long",
            "rules/rules.yaml:24:7: error: a trigger watches one thing: give 'sensor' or 'actuator', not both",
            "rules/rules.yaml:28:15: error: sensor 'livingroom-node.temperature' is a number; 'warm' is not a number",
            "rules/rules.yaml:30:11: error: sensor 'livingroom-node.motion' is a boolean; 'maybe' is not true or false",
            "rules/rules.yaml:33:12: error: invalid duration '30 seconds' for 'for': write a number with a unit (ms, s, m, h, d), like 30s, 5m or 1h30m, up to 10 years",
        ])
    }

    @Test func conditionActionAndRuleErrors() {
        let found = errors(devices: ["node.yaml": livingroomNode, "lamp.yaml": "id: lamp\nactuators:\n  light: { command_topic: lamp/set }\n"], rules: ["rules.yaml": """
            - id: actions
              when: { mqtt: x }
              then:
                - set: livingroom-node.temperature
                  to: on
                - toggle: livingroom-node.lamp
                - publish: { topic: "x/{{ trigger.vlue }}", payload: "{{ device.name }}" }
                - delay: 5 parsecs
                - set: lamp.light
                - set: lamp.light
                  to: dim
                - toggle: lamp.light
                  to: on
                - publish: { topic: "a/+" }
                - wait: 5s
              otherwise: []
              mode: paralel
              cooldown: soon
              loop_guard: { max_runs: 0, within: 5x }
            - description: no id
              when: { device: lamp, goes: online }
              if:
                - any: []
                - sensor: livingroom-node.temperature
                - after: "7am"
                  weekdays: [mon, funday]
                - actuator: livingroom-node.led
                  is: dim
                - all: [{ device: livingroom-node, is: here }]
                  sensor: livingroom-node.temperature
                - sensor: livingroom-node.mode
                  above: 3
                - time: now
              then: []
            - id: "bad id!"
              when: []
              then: [{ publish: { topic: t, payload: "{{ devices.livingroom-nod.name }} {{ devices.lamp.colour }} {{ weather }}" } }]
            """])
        #expect(found == [
            "rules/rules.yaml:4:12: error: device 'livingroom-node' has no actuator 'temperature'; 'temperature' is a sensor",
            "rules/rules.yaml:6:15: error: device 'livingroom-node' has no actuator 'lamp'",
            "rules/rules.yaml:7:25: error: unknown template variable 'trigger.vlue'; did you mean 'value'? (in 'topic')",
            "rules/rules.yaml:7:58: error: 'device.name' needs a trigger on a device, sensor or actuator; use devices.<id>... to name one (in 'payload')",
            "rules/rules.yaml:8:14: error: invalid duration '5 parsecs' for 'delay': write a number with a unit (ms, s, m, h, d), like 30s, 5m or 1h30m, up to 10 years",
            "rules/rules.yaml:9:7: error: a 'set' action needs 'to'",
            "rules/rules.yaml:11:11: error: expected on or off for 'to', found 'dim'",
            "rules/rules.yaml:13:7: error: 'to' belongs to 'set'",
            "rules/rules.yaml:14:25: error: invalid topic 'a/+' for 'topic': a topic name must not contain the wildcards '+' or '#'",
            "rules/rules.yaml:15:7: error: unknown key 'wait' in an action",
            "rules/rules.yaml:15:7: error: an action needs one of 'set', 'toggle', 'publish', 'http' or 'delay'",
            "rules/rules.yaml:16:3: error: 'otherwise' runs when a trigger stops holding, but these triggers are events; use a threshold, a state ('to'/'from') or a presence trigger",
            "rules/rules.yaml:17:9: error: unknown mode 'paralel'; use single, restart or queued",
            "rules/rules.yaml:18:13: error: invalid duration 'soon' for 'cooldown': write a number with a unit (ms, s, m, h, d), like 30s, 5m or 1h30m, up to 10 years",
            "rules/rules.yaml:19:27: error: expected a whole number from 1 to 100000 for 'max_runs', found '0'",
            "rules/rules.yaml:19:38: error: invalid duration '5x' for 'within': write a number with a unit (ms, s, m, h, d), like 30s, 5m or 1h30m, up to 10 years",
            "rules/rules.yaml:20:3: error: a rule needs 'id'",
            "rules/rules.yaml:21:19: error: device 'lamp' has no presence: give it a 'presence' block or a 'convention'",
            "rules/rules.yaml:23:12: error: 'any' needs at least one condition",
            "rules/rules.yaml:24:7: error: a sensor condition needs 'above', 'below' or 'equals'",
            "rules/rules.yaml:25:14: error: invalid time '7am' for 'after': write a time of day as HH:MM or HH:MM:SS, like 07:30, or sunrise or sunset",
            "rules/rules.yaml:26:23: error: unknown weekday 'funday': use mon, tue, wed, thu, fri, sat or sun",
            "rules/rules.yaml:28:11: error: expected on or off for 'is', found 'dim'",
            "rules/rules.yaml:29:7: error: 'all' must stand alone in its condition; put the other tests inside it",
            "rules/rules.yaml:32:14: error: 'above' needs a number sensor; 'livingroom-node.mode' is a string",
            "rules/rules.yaml:33:7: error: unknown key 'time' in a condition",
            "rules/rules.yaml:33:7: error: a condition needs 'sensor', 'actuator', 'device', 'after'/'before'/'weekdays', or 'all'/'any'/'not'",
            "rules/rules.yaml:34:9: error: 'then' needs at least one action",
            "rules/rules.yaml:35:7: error: invalid id 'bad id!': use ASCII letters (a-z, A-Z), digits, '-' and '_' only",
            "rules/rules.yaml:36:9: error: 'when' needs at least one trigger",
            "rules/rules.yaml:37:42: error: unknown device 'livingroom-nod'; did you mean 'livingroom-node'? (in 'payload')",
            "rules/rules.yaml:37:42: error: unknown template variable 'devices.lamp.colour' (in 'payload')",
            "rules/rules.yaml:37:42: error: unknown template variable 'weather' (in 'payload')",
        ])
    }

    @Test func everyFileIsReportedInOneRun() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("devices/a.yaml", "id: a\nsensors:\n  t: { topic: a/t, type: numbr }\n")
        try scratch.write("devices/nested/b.yml", "id: b\nroom: 5\nextra: 1\n")
        try scratch.write("devices/.hidden.yaml", "this is: [not read")
        try scratch.write("devices/notes.txt", "not YAML at all: [")
        try scratch.write("rules/one.yaml", "- id: r\n  when: { sensor: a.t, above: 1 }\n  then: [{ toggle: b.x }]\n")
        try scratch.write("rules/two.yaml", "- id: r\n  when: { device: b, goes: offline }\n  then: [{ delay: 1s }]\n")
        let result = HomeLoader.load(
            devicesDirectory: scratch.url.appendingPathComponent("devices"), rulesDirectory: scratch.url.appendingPathComponent("rules"))
        let root = scratch.url.path
        guard case .failure(let list) = result else { Issue.record("expected errors"); return }
        #expect(list.description == """
            \(root)/devices/a.yaml:3:26: error: unknown sensor type 'numbr'; did you mean 'number'?
            \(root)/devices/nested/b.yml:3:1: error: unknown key 'extra' in a device
            \(root)/rules/one.yaml:3:20: error: device 'b' has no actuator 'x'
            \(root)/rules/two.yaml:1:7: error: duplicate rule id 'r' (first defined at \(root)/rules/one.yaml:1:3)
            \(root)/rules/two.yaml:2:19: error: device 'b' has no presence: give it a 'presence' block or a 'convention'
            """)
    }

    @Test func absentDirectoriesAreAnEmptyHome() throws {
        let scratch = try ScratchDirectory()
        let result = HomeLoader.load(
            devicesDirectory: scratch.url.appendingPathComponent("devices"), rulesDirectory: scratch.url.appendingPathComponent("rules"))
        let home = try result.get()
        #expect(home.summary == "0 devices, 0 sensors, 0 actuators, 0 rules")
        #expect(home.topics.isEmpty)
    }

    @Test func aFileWhereADirectoryShouldBeIsAnError() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("devices", "oops")
        try scratch.write("rules/bad.yaml", "\u{FF}")
        let fileData = Data([0x69, 0x64, 0x3A, 0x20, 0xFF, 0xFE])
        try fileData.write(to: scratch.url.appendingPathComponent("rules/bad.yaml"))
        let result = HomeLoader.load(
            devicesDirectory: scratch.url.appendingPathComponent("devices"), rulesDirectory: scratch.url.appendingPathComponent("rules"))
        guard case .failure(let list) = result else { Issue.record("expected errors"); return }
        let root = scratch.url.path
        #expect(list.diagnostics.map(\.description) == [
            "\(root)/devices:1:1: error: '\(root)/devices' is not a directory",
            "\(root)/rules/bad.yaml:1:5: error: the file is not valid UTF-8 here; save it as UTF-8",
        ])
    }

    @Test func relativeDirectoriesShowRelativePaths() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("rules/r.yaml", "- id: r\n  when: { mqtt: x }\n  then: [{ dealy: 1s }]\n")
        let base = URL(fileURLWithPath: scratch.url.path, isDirectory: true)
        let result = HomeLoader.load(
            devicesDirectory: URL(fileURLWithPath: "devices", relativeTo: base),
            rulesDirectory: URL(fileURLWithPath: "rules", relativeTo: base))
        guard case .failure(let list) = result else { Issue.record("expected errors"); return }
        #expect(list.diagnostics.map(\.description) == [
            "rules/r.yaml:3:10: error: an action needs one of 'set', 'toggle', 'publish', 'http' or 'delay'",
            "rules/r.yaml:3:12: error: unknown key 'dealy' in an action; did you mean 'delay'?",
        ])
    }
}

@Suite("YAML features", .timeLimit(.minutes(5))) struct YAMLFeatureTests {
    @Test func anchorsAndMergeKeys() throws {
        let home = try validHome(devices: ["plugs.yaml": """
            - &plug
              id: plug-1
              convention: tasmota
              actuators:
                relay: &relay { command_topic: cmnd/plug-1/POWER, state_topic: stat/plug-1/POWER, qos: 1 }
            - <<: *plug
              id: plug-2
              actuators:
                relay:
                  <<: *relay
                  command_topic: cmnd/plug-2/POWER
                  state_topic: stat/plug-2/POWER
            """])
        #expect(home.devices.map(\.id) == ["plug-1", "plug-2"])
        let relay = try #require(home.devices[1].actuator(named: "relay"))
        #expect(relay.commandTopic == "cmnd/plug-2/POWER")
        #expect(relay.qos == 1)
        #expect(home.devices[1].presence?.topic == "tele/plug-2/LWT")
    }

    @Test func severalDocumentsInOneFile() throws {
        let home = try validHome(devices: ["two.yaml": "id: a\n---\nid: b\n---\n"])
        #expect(home.devices.map(\.id) == ["a", "b"])
    }

    @Test func emptyFilesAreFine() throws {
        let home = try validHome(devices: ["empty.yaml": ""], rules: ["empty.yaml": "# nothing yet\n"])
        #expect(home.summary == "0 devices, 0 sensors, 0 actuators, 0 rules")
    }
}
