import Logging
import MQTTBroker
import ServiceLifecycle

/// Runs the embedded broker as a service: started with the service group,
/// shut down gracefully when it is told to stop (SIGINT, SIGTERM).
public struct BrokerService: Service {
    public let broker: MQTTBroker

    public init(broker: MQTTBroker) {
        self.broker = broker
    }

    public func run() async throws {
        try await broker.start()
        // Returns when graceful shutdown begins, or throws when cancelled.
        try? await gracefulShutdown()
        await broker.shutdown()
    }
}
