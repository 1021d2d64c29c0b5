import Foundation
import TestSupport
import Testing
@testable import Rules

@Suite("Threshold triggers", .timeLimit(.minutes(5))) struct ThresholdTriggerTests {
    @Test func firesOnTheCrossingOnlyAndRunsOtherwiseBelowTheBand() throws {
        var harness = try Harness(rules: hotRoomRule)
        harness.startNode(temperature: 27.5)

        let below = harness.temperature(27.5)
        #expect(below.published.isEmpty)
        #expect(below.reasons("hot-room-led") == ["temperature 27.5 is not above 28"])

        let crossing = harness.temperature(28.5)
        #expect(crossing.published == ["home/livingroom-node/led/set on"])
        #expect(crossing.traces("hot-room-led").map(\.decision) == [.fired])
        #expect(crossing.reasons("hot-room-led") == ["temperature 28.5 is above 28"])

        let stillAbove = harness.temperature(29)
        #expect(stillAbove.published.isEmpty)
        #expect(stillAbove.reasons("hot-room-led") == ["temperature 29 is still above 28; it fires on the crossing only"])

        let inBand = harness.temperature(27.4)
        #expect(inBand.published.isEmpty)
        #expect(inBand.reasons("hot-room-led") == [
            "temperature 27.4 is within the hysteresis of 1, so still counts as above 28; it fires on the crossing only",
        ])

        let out = harness.temperature(26.9)
        #expect(out.published == ["home/livingroom-node/led/set off"])
        #expect(out.decisions("hot-room-led") == [.otherwise])
        #expect(out.reasons("hot-room-led") == ["temperature 26.9 is no longer above 28 by more than the hysteresis of 1"])
    }

    @Test func aValueJitteringInsideTheBandNeverFlaps() throws {
        var harness = try Harness(rules: hotRoomRule)
        harness.startNode(temperature: 26)
        var published: [String] = []
        published += harness.temperature(28.2).published
        // Noise between 27.0 and 28.9: inside and above the band, never below it.
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<500 {
            let noisy = 27.0 + Double.random(in: 0...1.9, using: &generator)
            published += harness.temperature((noisy * 10).rounded() / 10).published
        }
        #expect(published == ["home/livingroom-node/led/set on"])
        #expect(harness.temperature(26.5).published == ["home/livingroom-node/led/set off"])
        // And jitter below the threshold after that does not switch it on again.
        for _ in 0..<500 {
            let noisy = 26.0 + Double.random(in: 0...2, using: &generator)
            #expect(harness.temperature((noisy * 10).rounded() / 10).published.isEmpty)
        }
    }

    @Test func withoutHysteresisTheSameNoiseFlaps() throws {
        var harness = try Harness(rules: """
            - id: flappy
              when: { sensor: livingroom-node.temperature, above: 28 }
              then: [{ set: livingroom-node.led, to: on }]
              otherwise: [{ set: livingroom-node.led, to: off }]
              loop_guard: { max_runs: 1000 }
            """)
        harness.startNode(temperature: 26)
        var published: [String] = []
        for value in [28.2, 27.9, 28.1, 27.8, 28.3] { published += harness.temperature(value).published }
        #expect(published.count == 5)
    }

    @Test func belowAndBetween() throws {
        var harness = try Harness(rules: """
            - id: cold
              when: { sensor: livingroom-node.temperature, below: 18, hysteresis: 0.5 }
              then: [{ publish: { topic: alerts/cold, payload: "cold {{ trigger.value }}" } }]
              otherwise: [{ publish: { topic: alerts/cold, payload: "warm again" } }]
            - id: comfortable
              when: { sensor: livingroom-node.temperature, above: 20, below: 24 }
              then: [{ publish: { topic: alerts/comfy, payload: "comfy" } }]
            """)
        harness.startNode(temperature: 19)
        #expect(harness.temperature(17.5).published == ["alerts/cold cold 17.5"])
        #expect(harness.temperature(18.4).published.isEmpty)
        #expect(harness.temperature(18.6).published == ["alerts/cold warm again"])
        let comfy = harness.temperature(22)
        #expect(comfy.published == ["alerts/comfy comfy"])
        #expect(comfy.reasons("comfortable") == ["temperature 22 is between 20 and 24"])
        #expect(harness.temperature(25).reasons("comfortable") == ["temperature 25 is no longer between 20 and 24"])
    }
}

