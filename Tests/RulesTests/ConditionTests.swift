import Foundation
import Testing
@testable import Rules

@Suite("Conditions", .timeLimit(.minutes(5))) struct ConditionTests {
    /// A rule fired by `buttons/go` whose `if` is the given YAML.
    func harness(if conditions: String) throws -> Harness {
        var harness = try Harness(rules: """
            - id: guarded
              when: { mqtt: buttons/go }
              if:
            \(conditions.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
              then: [{ publish: { topic: t, payload: ran } }]
            """)
        harness.startNode(temperature: 22)
        return harness
    }

    mutating func press(_ harness: inout Harness) -> (ran: Bool, reason: String) {
        let outputs = harness.send("buttons/go", "")
        return (!outputs.published.isEmpty, outputs.reasons("guarded").last ?? "")
    }

    @Test mutating func sensorActuatorAndPresence() throws {
        var harness = try self.harness(if: """
            - sensor: livingroom-node.temperature
              above: 20
              below: 25
            - actuator: livingroom-node.led
              is: off
            - device: livingroom-node
              is: online
            """)
        #expect(press(&harness) == (false, "message '' on buttons/go, but condition false: livingroom-node.led is in an unknown state"))
        harness.send("home/livingroom-node/led", "off")
        #expect(press(&harness).ran)
        harness.temperature(26)
        #expect(press(&harness) == (false, "message '' on buttons/go, but condition false: livingroom-node.temperature 26 is not between 20 and 25"))
        harness.temperature(21)
        harness.send("home/livingroom-node/status", "offline")
        // Offline: the temperature is stale, so the sensor condition fails first.
        #expect(press(&harness) == (false, "message '' on buttons/go, but condition false: livingroom-node.temperature has no current value"))
    }

    @Test mutating func allAnyNot() throws {
        var harness = try self.harness(if: """
            - any:
                - sensor: livingroom-node.mode
                  equals: party
                - all:
                    - sensor: livingroom-node.temperature
                      above: 25
                    - not:
                        - sensor: livingroom-node.motion
                          equals: true
            """)
        harness.send("home/livingroom-node/mode", "quiet")
        harness.send("home/livingroom-node/motion", "true")
        #expect(press(&harness) == (false, """
            message '' on buttons/go, but condition `any` false: livingroom-node.mode is quiet, not party; \
            condition `all` false: livingroom-node.temperature 22 is not above 25
            """))
        harness.temperature(26)
        #expect(press(&harness).reason.hasSuffix("condition `all` false: condition `not` false: livingroom-node.motion is true"))
        harness.send("home/livingroom-node/motion", "false")
        #expect(press(&harness).ran)
        harness.temperature(20)
        harness.send("home/livingroom-node/mode", "party")
        #expect(press(&harness).ran)
    }

    @Test mutating func timeWindowAcrossMidnightOnWeekdays() throws {
        var harness = try self.harness(if: """
            - after: "22:00"
              before: "06:00"
              weekdays: [mon, tue]
            """)
        // Monday 08:00.
        #expect(press(&harness) == (false, "message '' on buttons/go, but condition false: it is 08:00 on mon, not after 22:00 and before 06:00 on mon, tue"))
        harness.advance(14 * 3600 + 30 * 60)   // Monday 22:30
        #expect(press(&harness).ran)
        harness.advance(3 * 3600)               // Tuesday 01:30
        #expect(press(&harness).ran)
        harness.advance(24 * 3600)              // Wednesday 01:30
        #expect(press(&harness).reason.hasSuffix("it is 01:30 on wed, not after 22:00 and before 06:00 on mon, tue"))
    }

    @Test func windowContainsBoundaries() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let window = TimeWindow(after: TimeOfDay(hour: 7, minute: 0), before: TimeOfDay(hour: 22, minute: 0))
        #expect(window.contains(testStart.addingTimeInterval(-3600), calendar: calendar))       // 07:00
        #expect(!window.contains(testStart.addingTimeInterval(-3601), calendar: calendar))      // 06:59:59
        #expect(!window.contains(testStart.addingTimeInterval(14 * 3600), calendar: calendar))  // 22:00
    }
}
