import MQTT
import Synchronization

/// Collects messages from an in-process subscription for assertions.
final class MessageLog: Sendable {
    private let storage = Mutex<[MQTTMessage]>([])

    func append(_ message: MQTTMessage) { storage.withLock { $0.append(message) } }

    var messages: [MQTTMessage] { storage.withLock { $0 } }

    func waitForCount(_ count: Int, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if messages.count >= count { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return messages.count >= count
    }
}
