import ArgumentParser
import Foundation
import Rules

/// `homerules bench ...`: throughput measurements, not tests.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure how fast parts of HomeRules run.",
        subcommands: [BenchBrokerCommand.self, BenchRulesCommand.self, BenchDaemonCommand.self]
    )
}

/// `homerules bench rules`: events per second through the rule evaluator,
/// with many rules and with few, to show that the cost of an event depends
/// on the rules that reference it and not on the others.
struct BenchRulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Measure events per second through the rule evaluator.",
        discussion: """
            Generates 500 devices, each with a temperature sensor and an LED, and threshold rules, two per \
            device from the first device on. Events are temperature readings sent to devices that have rules, \
            so every event reaches exactly two rules. Scenarios: 1,000 rules with events spread over all 500 \
            devices; 1,000 rules with events on 5 devices; 10 rules with events on the same 5 devices. The last \
            two differ only in the number of unrelated rules.
            """
    )

    @Option(help: "How many events to send through each scenario.")
    var events = 200_000

    @Option(help: "How many devices to generate.")
    var devices = 500

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard devices >= 5 else { throw ValidationError("--devices must be at least 5") }
    }

    func run() throws {
        let many = try Self.home(devices: devices, rules: 2 * devices)
        let few = try Self.home(devices: devices, rules: 10)
        let scenarios = [(many, devices), (many, 5), (few, 5)]
        for (home, eventDevices) in scenarios {
            let perSecond = Self.measure(home: home, events: events, acrossDevices: eventDevices)
            let microseconds = 1_000_000 / perSecond
            print("\(Formatting.grouped(home.rules.count)) rules over \(Formatting.grouped(devices)) devices, "
                  + "events on \(Formatting.grouped(eventDevices)) devices: "
                  + "\(Formatting.grouped(Int(perSecond))) events/s (\(String(format: "%.2f", microseconds)) µs per event)")
        }
    }

    /// Sends `events` readings to the first `acrossDevices` devices and
    /// returns events per second.
    private static func measure(home: Home, events: Int, acrossDevices: Int) -> Double {
        let start = Date()
        var engine = Engine(home: home, now: start)
        var random = SplitMix(seed: 7)
        let topics = (0..<acrossDevices).map { "bench/device-\($0)/temperature" }
        let messages = (0..<events).map { _ in
            IncomingMessage(topic: topics[Int(random.next() % UInt64(topics.count))], text: String(15 + random.next() % 20))
        }
        for (index, topic) in topics.enumerated() {
            _ = engine.handle(.message(IncomingMessage(topic: topic, text: "20")), id: InputID(index), at: start)
        }
        var outputs = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for (index, message) in messages.enumerated() {
                let now = start.addingTimeInterval(Double(index) / 1000)
                outputs &+= engine.handle(.message(message), id: InputID(index + topics.count), at: now).count
            }
        }
        precondition(outputs > 0, "the benchmark produced no outputs")
        return Double(events) / elapsed.timeInterval
    }

    /// A generated home: `devices` devices, and `rules` threshold rules,
    /// two per device from the first device on (1,000 for 500 devices).
    private static func home(devices: Int, rules: Int) throws -> Home {
        // A document every 100 entries: one YAML document holds at most 100,000 nodes.
        var deviceText = ""
        for index in 0..<devices {
            if index % 100 == 0 { deviceText += "---\n" }
            deviceText += """
                - id: device-\(index)
                  presence: { topic: bench/device-\(index)/status }
                  sensors:
                    temperature: { topic: bench/device-\(index)/temperature, type: number }
                  actuators:
                    led: { command_topic: bench/device-\(index)/led/set, state_topic: bench/device-\(index)/led }

                """
        }
        var ruleText = ""
        for index in 0..<rules {
            if index % 100 == 0 { ruleText += "---\n" }
            let device = index / 2
            let comparison = index % 2 == 0 ? "above: \(25 + index % 7)" : "below: \(20 - index % 3)"
            ruleText += """
                - id: rule-\(index)
                  when: { sensor: device-\(device).temperature, \(comparison), hysteresis: 1 }
                  then: [{ set: device-\(device).led, to: on }]
                  otherwise: [{ set: device-\(device).led, to: off }]

                """
        }
        switch HomeLoader.load(
            deviceFiles: [SourceFile(path: "bench/devices.yaml", text: deviceText)],
            ruleFiles: [SourceFile(path: "bench/rules.yaml", text: ruleText)]
        ) {
        case .success(let home): return home
        case .failure(let errors): throw ValidationError("generated home is invalid:\n\(errors)")
        }
    }
}

/// SplitMix64: a tiny deterministic generator, so runs are comparable.
private struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
