import Logging
import MQTT
import MQTTClient
import Synchronization

/// Publishes through the client in the order messages were handed over,
/// without the rules loop waiting for each acknowledgement.
///
/// Bounded: beyond `capacity` waiting messages (an external broker gone for a
/// long time), newer ones are dropped, and each drop is logged.
final class OrderedPublisher: Sendable {
    private let continuation: AsyncStream<MQTTMessage>.Continuation
    private let task: Task<Void, Never>
    private let logger: Logger
    private let dropped = Atomic<Int>(0)

    init(client: MQTTClient, capacity: Int = 10_000, logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTMessage.self, bufferingPolicy: .bufferingOldest(capacity))
        self.continuation = continuation
        self.logger = logger
        task = Task {
            for await message in stream {
                do {
                    try await client.publish(topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain)
                } catch {
                    logger.error("could not publish on \(message.topic): \(error)")
                }
            }
        }
    }

    func enqueue(_ message: MQTTMessage) {
        if case .dropped = continuation.yield(message) {
            let count = dropped.add(1, ordering: .relaxed).newValue
            logger.error("publish queue full: dropped a message for \(message.topic) (\(count) so far)")
        }
    }

    /// Publishes what is queued, then stops.
    func finish() async {
        continuation.finish()
        await task.value
    }
}
