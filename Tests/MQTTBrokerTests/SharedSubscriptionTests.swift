import MQTT
import MQTTBroker
import NIOCore
import Testing

@Suite("Shared subscriptions: $share/GROUP/FILTER", .timeLimit(.minutes(5)))
struct SharedSubscriptionTests {
    @Test("each message goes to one member of each group, in turn, MQTT 5 and 3.1.1 members alike")
    func roundRobinAcrossVersions() async throws {
        try await withBroker { _, port in
            let (a, _) = try await RawClient.connected5(to: port, clientID: "a")
            let (b, _) = try await RawClient.connected(to: port, clientID: "b")
            let (other, _) = try await RawClient.connected(to: port, clientID: "other-group")
            #expect(try await a.subscribe("$share/workers/jobs/+", qos: .atLeastOnce) == [SubscribeReturnCode(granted: .atLeastOnce)])
            #expect(try await b.subscribe("$share/workers/jobs/+", qos: .atLeastOnce) == [SubscribeReturnCode(granted: .atLeastOnce)])
            _ = try await other.subscribe("$share/audit/jobs/#", qos: .atMostOnce)
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            for index in 1...4 {
                try await publisher.send(publish5("jobs/print", "\(index)", qos: .atLeastOnce, id: UInt16(index)))
                _ = try await publisher.next()
            }
            let toA = [try await a.nextAcknowledged(), try await a.nextAcknowledged()].map(\.payload.string)
            let toB = [try await b.nextAcknowledged(), try await b.nextAcknowledged()].map(\.payload.string)
            #expect(Set(toA + toB) == ["1", "2", "3", "4"])
            #expect(toA == ["1", "3"] || toA == ["2", "4"], "round robin: \(toA) and \(toB)")
            let audit = try await (1...4).asyncMap { _ in try await other.nextPublish().payload.string }
            #expect(audit == ["1", "2", "3", "4"])
            try await a.expectNothing(after: [publisher])
            try await b.expectNothing()
        }
    }

    @Test("a shared subscription gets no retained messages; an ordinary one beside it does, and both get new messages")
    func noRetainedMessagesOnSharedSubscribe() async throws {
        try await withBroker { _, port in
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            try await publisher.send(publish5("state", "on", retain: true))
            try await publisher.roundTrip()
            let (client, _) = try await RawClient.connected5(to: port, clientID: "c")
            _ = try await client.subscribe("$share/g/state")
            try await client.expectNothing()
            _ = try await client.subscribe("state", packetID: 2)
            #expect(try await client.nextPublish().retain)
            try await publisher.send(publish5("state", "off"))
            let twice = [try await client.nextPublish(), try await client.nextPublish()]
            #expect(twice.map(\.payload.string) == ["off", "off"])
        }
    }

    @Test("a member that left, or whose window is full, is passed over while another can take the message")
    func membersThatCannotTakeAreSkipped() async throws {
        try await withBroker({ $0.maximumInflightMessages = 1 }) { _, port in
            let (busy, _) = try await RawClient.connected5(to: port, clientID: "busy")
            let (free, _) = try await RawClient.connected5(to: port, clientID: "free")
            let (away, _) = try await RawClient.connected5(to: port, clientID: "away") { $0.properties.sessionExpiryInterval = 60 }
            for member in [busy, free, away] { _ = try await member.subscribe("$share/g/t", qos: .atLeastOnce) }
            await away.drop()
            let (publisher, _) = try await RawClient.connected5(to: port, clientID: "pub")
            // busy takes the first and does not acknowledge it: its window of one is full.
            try await publisher.send(publish5("t", "1", qos: .atLeastOnce, id: 1))
            let first = try await busy.nextPublish()
            for index in 2...4 {
                try await publisher.send(publish5("t", "\(index)", qos: .atLeastOnce, id: UInt16(index)))
                #expect(try await free.nextAcknowledged().payload.string == "\(index)")
            }
            try await busy.expectNothing(after: [publisher])
            #expect(first.payload.string == "1")
        }
    }

    @Test("No Local on a shared subscription is a protocol error; a malformed share name is refused")
    func sharedSubscriptionRules() async throws {
        try await withBroker { _, port in
            let (v3, _) = try await RawClient.connected(to: port, clientID: "v3")
            #expect(try await v3.subscribe("$share/g") == [.failure])
            #expect(try await v3.subscribe("$share//t", packetID: 2) == [.failure])
            let (client, _) = try await RawClient.connected5(to: port, clientID: "c")
            try await client.send(.subscribe(SubscribePacket(packetID: 1, subscriptions: [
                .init(filter: "$share/g/t", qos: .atMostOnce, noLocal: true),
            ])))
            #expect(try await client.nextDisconnect().reasonCode == .protocolError)
        }
    }
}

extension ClosedRange where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
