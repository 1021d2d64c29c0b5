import MQTT
@testable import MQTTBroker
import NIOCore
import NIOEmbedded
import Testing

/// The broker's table of connections counts against `max_connections`: a
/// connection is in it exactly while its handler is in a pipeline.
@Suite("The connection table", .timeLimit(.minutes(5)))
struct ConnectionTableTests {
    private func makeCore(on loop: EmbeddedEventLoop) throws -> BrokerCore {
        let core = BrokerCore(
            eventLoop: loop, configuration: BrokerConfiguration(listeners: [.init(port: 0)], maximumConnections: 1), logger: quietLogger)
        try core.loadPolicies()
        return core
    }

    @Test func aSetUpThatFailsLeavesNoConnectionBehind() async throws {
        let loop = EmbeddedEventLoop()
        let core = try makeCore(on: loop)
        // A client that reset at once: its channel closed before its pipeline was set up.
        let reset = EmbeddedChannel(loop: loop)
        try await reset.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1883))
        try await reset.close()
        loop.run()
        #expect(throws: (any Error).self) { try core.setUpConnection(on: reset, listenerIndex: 0) }
        #expect(core.connectionCount == 0)

        // The one place max_connections allows is still free.
        let next = EmbeddedChannel(loop: loop)
        try await next.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1883))
        try core.setUpConnection(on: next, listenerIndex: 0)
        #expect(core.connectionCount == 1)
        try await next.close()
        loop.run()
        #expect(core.connectionCount == 0)
    }
}
