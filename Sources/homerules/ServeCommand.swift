import ArgumentParser
import HomeRules
import Logging
import MQTTBroker
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the embedded MQTT broker.",
        discussion: "With no options, listens on 127.0.0.1:1883 only, as Mosquitto 2 does."
    )

    @Option(name: .long, help: ArgumentHelp("Address to accept MQTT connections on, as HOST:PORT or PORT (repeatable).", valueName: "host:port"))
    var listen: [String] = []

    @Option(name: .customLong("max-connections"), help: "Connections beyond this are closed on accept (max_connections).")
    var maximumConnections = BrokerConfiguration().maximumConnections

    @Option(name: .customLong("max-packet-size"), help: "Largest packet accepted, in bytes; larger ones close the connection (max_packet_size).")
    var maximumPacketSize = BrokerConfiguration().maximumPacketSize

    @Option(name: .customLong("max-queued-messages"), help: "QoS 1 and 2 messages queued per client beyond the inflight window (max_queued_messages).")
    var maximumQueuedMessages = BrokerConfiguration().maximumQueuedMessages

    @Option(name: .customLong("max-inflight-messages"), help: "Outgoing QoS 1 and 2 messages awaiting acknowledgement per client (max_inflight_messages).")
    var maximumInflightMessages = BrokerConfiguration().maximumInflightMessages

    @Option(name: .customLong("max-queued-bytes"), help: "Unsent bytes per client above which QoS 0 messages to it are dropped (max_queued_bytes).")
    var maximumQueuedBytes = BrokerConfiguration().maximumQueuedBytes

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        for address in listen where BrokerConfiguration.Listener(parsing: address) == nil {
            throw ValidationError("--listen \(address): expected HOST:PORT or PORT")
        }
        guard maximumConnections > 0, maximumPacketSize > 0, maximumInflightMessages > 0, maximumQueuedMessages >= 0, maximumQueuedBytes > 0 else {
            throw ValidationError("limits must be positive")
        }
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "homerules")
        var configuration = BrokerConfiguration(
            maximumPacketSize: maximumPacketSize,
            maximumConnections: maximumConnections,
            maximumQueuedMessages: maximumQueuedMessages,
            maximumInflightMessages: maximumInflightMessages,
            maximumQueuedBytes: maximumQueuedBytes)
        if !listen.isEmpty {
            configuration.listeners = listen.compactMap(BrokerConfiguration.Listener.init(parsing:))
        }
        let broker = MQTTBroker(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            services: [BrokerService(broker: broker)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
