import MQTT
@testable import MQTTBroker
@testable import MQTT
import Testing

@Suite("The outgoing window and queue", .timeLimit(.minutes(5)))
struct InflightTests {
    @Test("a window wider than the packet identifiers is 65,535 wide: the next message waits, nothing spins")
    func theWindowNeverOutgrowsThePacketIdentifiers() {
        var outgoing = OutgoingFlows<MQTTMessage>(maximumInflight: 70_000, maximumQueued: 10, maximumQueuedBytes: 0)
        var ids = PacketIDAllocator()
        let message = MQTTMessage(topic: "t", payload: "x", qos: .atLeastOnce)
        var identifiers = Set<UInt16>()
        for _ in 0..<65_535 {
            guard case .send(let entry) = outgoing.admit(message, windowOpen: true, ids: &ids) else {
                Issue.record("the window closed early")
                return
            }
            identifiers.insert(entry.packetID)
        }
        #expect(identifiers.count == 65_535 && !identifiers.contains(0))
        guard case .queued = outgoing.admit(message, windowOpen: true, ids: &ids) else {
            Issue.record("the 65,536th message was not queued")
            return
        }
        let acknowledged = outgoing.acknowledge(1, ids: &ids) != nil
        var expired = 0
        let refilled = outgoing.refill(ids: &ids, expired: &expired).map(\.packetID)
        #expect(acknowledged)
        #expect(refilled == [1])
    }
}
