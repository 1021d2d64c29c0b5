import ArgumentParser
import Foundation
import MQTT
import MQTTClient
import NIOPosix

/// `homerules bench broker`: load against any MQTT broker, counted exactly.
struct BenchBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Measure an MQTT broker: fan-in, fan-out, fixed-rate latency, idle connections.",
        discussion: """
            Every message carries its publisher, a sequence number and the time it was sent, so loss, duplicates \
            and reordering are counted, not assumed. Runs against any broker (--broker); Benchmarks/compare.py \
            runs it against ours and Mosquitto side by side.
            """
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case fanIn = "fan-in", fanOut = "fan-out", latency, idle
    }

    @Option(help: ArgumentHelp("The broker (mqtt://HOST:PORT).", valueName: "url"))
    var broker = "mqtt://127.0.0.1:1883"

    @Option(help: "fan-in (P publishers to 1 subscriber on a wildcard), fan-out (1 publisher to S subscribers), latency (fixed rate), idle (connections held).")
    var scenario: Scenario = .fanIn

    @Option(help: "Publishers for fan-in.")
    var publishers = 8

    @Option(help: "Subscribers for fan-out.")
    var subscribers = 50

    @Option(name: .customLong("mqtt-version"), help: ArgumentHelp("The MQTT version of every connection: 5, 3.1.1 or 3.1.", valueName: "version"))
    var mqttVersion: ProtocolVersion = .v3_1_1

    @Option(help: "QoS of publishes and subscriptions: 0, 1 or 2.")
    var qos = 0

    @Option(help: "Payload size in bytes (at least 20, the header every message carries).")
    var payload = 64

    @Option(help: "Messages published in all (fan-in), or by the one publisher (fan-out).")
    var messages = 1_000_000

    @Option(help: "Messages per second in all: the latency scenario's rate (default 10000), or a fixed rate for fan-in and fan-out instead of as fast as possible.")
    var rate: Int?

    @Option(help: "Seconds of the latency scenario, or of holding the idle connections.")
    var seconds = 10

    @Option(help: "Connections for the idle scenario.")
    var connections = 5000

    @Option(help: "Messages a publisher may be ahead of its slowest receiver, so that no broker's queue overflows (default 100 at QoS 0, 10 at QoS 1 and 2: Mosquitto 2.0 drops QoS 1 messages for a client a few hundred behind); 0 turns it off.")
    var window: Int?

    @Option(help: "QoS 1 and 2 messages a publisher may have awaiting the broker's acknowledgement.")
    var inflight = 100

    @Flag(help: "Print one JSON object per scenario instead of a line for people.")
    var json = false

    func validate() throws {
        guard QoS(rawValue: UInt8(clamping: qos)) != nil else { throw ValidationError("--qos must be 0, 1 or 2") }
        guard payload >= BenchPayload.headerSize else { throw ValidationError("--payload must be at least \(BenchPayload.headerSize)") }
        guard publishers > 0, subscribers > 0, messages > 0, (rate ?? 1) > 0, seconds > 0, connections > 0, (window ?? 0) >= 0, inflight > 0 else {
            throw ValidationError("counts must be positive")
        }
    }

    func run() async throws {
        let target: MQTTClientConfiguration
        do { target = try MQTTClientConfiguration(url: broker) } catch { throw ValidationError("--broker \(broker): \(error)") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var load = BrokerLoad(
            host: target.host, port: target.port, qos: QoS(rawValue: UInt8(qos))!, payload: payload, window: window ?? (qos == 0 ? 100 : 10),
            loop: group.next())
        load.inflight = inflight
        load.version = mqttVersion
        let report: BenchReport
        switch scenario {
        case .fanIn: report = try await load.fanIn(publishers: publishers, messages: messages, rate: rate)
        case .fanOut: report = try await load.fanOut(subscribers: subscribers, messages: messages, rate: rate)
        case .latency: report = try await load.latency(rate: rate ?? 10_000, seconds: seconds)
        case .idle: report = try await load.idle(connections: connections, seconds: seconds)
        }
        try? await group.shutdownGracefully()
        print(json ? report.json : report.line)
    }
}
