import Foundation
import Testing
@testable import Rules

@Suite("State, presence, mqtt and time triggers", .timeLimit(.minutes(5))) struct TriggerKindTests {
    @Test func stateToFromAndAnyChange() throws {
        var harness = try Harness(rules: """
            - id: to-away
              when: { sensor: livingroom-node.mode, to: away }
              then: [{ publish: { topic: t, payload: "to away" } }]
            - id: home-to-away
              when: { sensor: livingroom-node.mode, from: home, to: away }
              then: [{ publish: { topic: t, payload: "home to away" } }]
            - id: any-mode
              when: { sensor: livingroom-node.mode }
              then: [{ publish: { topic: t, payload: "{{ trigger.previous }} -> {{ trigger.value }}" } }]
            - id: motion
              when: { sensor: livingroom-node.motion, equals: true }
              then: [{ publish: { topic: t, payload: "motion" } }]
            """)
        harness.startNode()
        #expect(harness.send("home/livingroom-node/mode", "eco").published.isEmpty)
        let eco = harness.send("home/livingroom-node/mode", "away")
        #expect(Set(eco.published) == ["t to away", "t eco -> away"])
        #expect(eco.reasons("home-to-away") == ["mode is 'away', but it was 'eco', not 'home'"])
        #expect(Set(harness.send("home/livingroom-node/mode", "home").published) == ["t away -> home"])
        #expect(Set(harness.send("home/livingroom-node/mode", "away").published) == ["t to away", "t home to away", "t home -> away"])
        let same = harness.send("home/livingroom-node/mode", "away")
        #expect(same.published.isEmpty)
        #expect(same.reasons("any-mode") == ["mode unchanged at 'away'"])

        #expect(harness.send("home/livingroom-node/motion", "OFF").published.isEmpty)
        #expect(harness.send("home/livingroom-node/motion", "ON").published == ["t motion"])
        #expect(harness.send("home/livingroom-node/motion", "true").published.isEmpty)
    }

    @Test func actuatorStateTrigger() throws {
        var harness = try Harness(rules: """
            - id: led-on
              when: { actuator: livingroom-node.led, to: on }
              then: [{ publish: { topic: t, payload: "led {{ trigger.value }}" } }]
            """)
        harness.startNode()
        #expect(harness.send("home/livingroom-node/led", "off").published.isEmpty)
        #expect(harness.send("home/livingroom-node/led", "on").published == ["t led on"])
        let odd = harness.send("home/livingroom-node/led", "blinking")
        #expect(odd.ignored.map(\.reason) == ["'blinking' is neither the on nor the off payload of livingroom-node.led"])
    }

    @Test func presenceGoesOfflineAndOnline() throws {
        var harness = try Harness(rules: """
            - id: lost
              when: { device: livingroom-node, goes: offline }
              then: [{ publish: { topic: home/alerts, payload: "{{ device.name }} went offline" } }]
            - id: back
              when: { device: livingroom-node, goes: online }
              then: [{ publish: { topic: home/alerts, payload: "{{ device.id }} is back" } }]
            """)
        // The first presence is what the broker already knew: not a change.
        let first = harness.send("home/livingroom-node/status", "online", retained: true)
        #expect(first.published.isEmpty)
        #expect(first.presenceChanges.map(\.to) == [.online])
        #expect(first.reasons("back") == [
            "livingroom-node went online, but a first value after unknown or offline is not a change (see fire_on_first_value)",
        ])
        // The will of an arduino-mqtt sketch: setWill(topic, "offline", true, 1).
        #expect(harness.send("home/livingroom-node/status", "offline", retained: true).published == [
            "home/alerts Living room ESP8266 went offline",
        ])
        #expect(harness.send("home/livingroom-node/status", "online").published == ["home/alerts livingroom-node is back"])
        let junk = harness.send("home/livingroom-node/status", "rebooting")
        #expect(junk.ignored.map(\.reason) == ["'rebooting' is not a presence payload of device 'livingroom-node'"])
    }

    @Test func presenceFiresOnFirstValueWhenAsked() throws {
        var harness = try Harness(rules: """
            - id: seen
              when: { device: livingroom-node, goes: online, fire_on_first_value: true }
              then: [{ publish: { topic: t, payload: seen } }]
            """)
        #expect(harness.send("home/livingroom-node/status", "online", retained: true).published == ["t seen"])
    }

    @Test func mqttTriggerWithWildcardsAndPayload() throws {
        var harness = try Harness(rules: """
            - id: any-button
              when: { mqtt: "buttons/+/press" }
              then: [{ publish: { topic: "echo/{{ trigger.topic }}", payload: "{{ trigger.payload }}" } }]
            - id: long-press
              when: { mqtt: "buttons/#", payload: long }
              then: [{ publish: { topic: t, payload: long } }]
            """)
        #expect(harness.send("buttons/kitchen/press", "short").published == ["echo/buttons/kitchen/press short"])
        let long = harness.send("buttons/hall/press", "long")
        #expect(Set(long.published) == ["echo/buttons/hall/press long", "t long"])
        let other = harness.send("buttons/hall/battery", "80")
        #expect(other.published.isEmpty)
        #expect(other.reasons("long-press") == ["message '80' on buttons/hall/battery is not 'long'"])
        // A retained message is old news.
        let retained = harness.send("buttons/kitchen/press", "short", retained: true)
        #expect(retained.published.isEmpty)
        // Unrelated topics reach no rule at all.
        #expect(harness.send("lights/kitchen", "x").isEmpty)
    }

    @Test func mqttTriggerWithForHoldsPerTopic() throws {
        var harness = try Harness(rules: """
            - id: door-open
              when: { mqtt: "doors/+", payload: open, for: 1m }
              then: [{ publish: { topic: alerts, payload: "{{ trigger.topic }} open for a minute" } }]
              otherwise: [{ publish: { topic: alerts, payload: "{{ trigger.topic }} closed" } }]
            """)
        harness.send("doors/front", "open")
        harness.advance(30)
        harness.send("doors/back", "open")
        harness.send("doors/back", "closed")
        #expect(harness.advance(30).published == ["alerts doors/front open for a minute"])
        #expect(harness.send("doors/front", "closed").published == ["alerts doors/front closed"])
    }

    @Test func timeOfDayAndCron() throws {
        var harness = try Harness(rules: """
            - id: morning
              when: { at: ["08:30", "09:00:30"] }
              then: [{ publish: { topic: t, payload: "morning {{ trigger.value }} {{ now }}" } }]
            - id: quarter
              when: { cron: "*/15 8-9 * * mon-fri" }
              then: [{ publish: { topic: q, payload: "{{ now.time }}" } }]
            """)
        #expect(harness.engine.nextDeadline == testStart.addingTimeInterval(15 * 60))
        let outputs = harness.advance(2 * 3600)
        #expect(outputs.published == [
            "q 08:15:00", "t morning 08:30 2025-03-03 08:30:00", "q 08:30:00", "q 08:45:00", "q 09:00:00",
            "t morning 09:00:30 2025-03-03 09:00:30", "q 09:15:00", "q 09:30:00", "q 09:45:00",
        ])
        #expect(outputs.reasons("morning").first == "it is 08:30 (at 08:30, 09:00:30)")
        // Saturday: no quarter-hours.
        let weekend = harness.advance(5 * 86_400)
        #expect(weekend.published.filter { $0.hasPrefix("q ") }.count == 4 * 8)
    }
}
