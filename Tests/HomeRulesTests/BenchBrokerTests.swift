import Foundation
import MQTTBroker
import TestSupport
import Testing
@testable import homerules

/// The benchmark's figures can be trusted: a known load gives exact counts.
@Suite("homerules bench broker counts exactly", .timeLimit(.minutes(5)))
struct BenchBrokerTests {
    @Test func theCounterSeesLossDuplicatesAndReordering() {
        var counter = DeliveryCounter()
        for sequence: UInt64 in [0, 1, 3, 2, 2, 5] {
            counter.record(BenchPayload(publisher: 7, sequence: sequence, sentAt: 1_000), receivedAt: 1_500)
        }
        let totals = counter.totals(expectedPerPublisher: [7: 8])
        #expect(totals.received == 6)
        #expect(totals.duplicates == 1)
        #expect(totals.reordered == 1)
        #expect(totals.lost == 3)   // 4, 6 and 7 never came
        #expect(totals.latency.totalCount == 6)
    }

    @Test(arguments: [
        (["--scenario", "fan-in", "--publishers", "4", "--messages", "4000", "--qos", "0"], 4000, 4000),
        (["--scenario", "fan-in", "--publishers", "4", "--messages", "2000", "--qos", "1"], 2000, 2000),
        (["--scenario", "fan-in", "--publishers", "2", "--messages", "1000", "--qos", "2"], 1000, 1000),
        (["--scenario", "fan-out", "--subscribers", "5", "--messages", "600", "--qos", "1"], 600, 3000),
        (["--scenario", "latency", "--rate", "2000", "--seconds", "1"], 2000, 2000),
    ])
    func aKnownLoadGivesExactCounts(arguments: [String], sent: Int, received: Int) async throws {
        let broker = MQTTBroker(configuration: BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil))
        try await broker.start()
        let port = try #require(broker.boundAddresses.first?.port)
        let result = try await HomeRulesBinary.run(["bench", "broker", "--json", "--broker", "mqtt://127.0.0.1:\(port)"] + arguments, timeout: 120)
        await broker.shutdown()
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["sent"] as? Int == sent)
        #expect(report["received"] as? Int == received)
        #expect(report["lost"] as? Int == 0)
        #expect(report["duplicates"] as? Int == 0)
        #expect(report["reordered"] as? Int == 0)
    }
}
