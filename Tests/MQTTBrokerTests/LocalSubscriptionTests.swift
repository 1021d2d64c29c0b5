import MQTT
@testable import MQTTBroker
import NIOCore
import Synchronization
import Testing

@Suite("In-process subscriptions", .timeLimit(.minutes(5)))
struct LocalSubscriptionTests {
    @Test func whatASubscriptionSendsNeverComesBackToItButReachesEveryoneElse() async throws {
        try await withBroker { broker, port in
            let heard = Mutex<[String]>([])
            let daemon = try await broker.subscribe([.init(filter: "#", qos: .atLeastOnce)]) { message in
                heard.withLock { $0.append(message.topic) }
            }
            let (client, _) = try await RawClient.connected(to: port, clientID: "watcher")
            _ = try await client.subscribe("#")

            daemon.send(MQTTMessage(topic: "lab/out", payload: "from the daemon"))
            // The same loop routes both, in order: once the barrier is heard, the message before it was routed.
            await broker.publish(MQTTMessage(topic: "lab/barrier", payload: "from someone else"))

            #expect(heard.withLock { $0 } == ["lab/barrier"])
            #expect(try await client.nextPublish().topic == "lab/out")
            #expect(try await client.nextPublish().topic == "lab/barrier")
            await daemon.cancel()
        }
    }
}
