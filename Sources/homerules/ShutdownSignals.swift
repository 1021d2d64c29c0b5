import Logging
import ServiceLifecycle

/// Runs `operation` until it returns, or until SIGINT or SIGTERM cancels it;
/// then runs `cleanup`, which is not cancelled, so that it can still say
/// goodbye on the network.
func runUntilShutdownSignal(
    _ operation: @escaping @Sendable () async throws -> Void,
    cleanup: @escaping @Sendable () async -> Void = {}
) async throws {
    let service = ClosureService {
        do {
            try await cancelWhenGracefulShutdown(operation)
        } catch is CancellationError {
            // The signal's doing: a normal end.
        }
        await cleanup()
    }
    let quiet = Logger(label: "homerules.signals") { _ in SwiftLogNoOpLogHandler() }
    let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet)
    try await group.run()
}
