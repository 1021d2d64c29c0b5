import ArgumentParser
import Foundation
import HomeRules
import Logging
import MQTTBroker
import MQTTClient
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the broker, the rules daemon and the event log.",
        discussion: """
            With no options: an MQTT broker on 127.0.0.1:1883 only (as Mosquitto 2 does), devices from ./devices, \
            rules from ./rules, events logged to ./homerules.sqlite. Reloads on SIGHUP and when a device or rule \
            file changes; stops gracefully on SIGINT and SIGTERM.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Address to accept MQTT connections on, as HOST:PORT or PORT (repeatable).", valueName: "host:port"))
    var listen: [String] = []

    @Option(name: .customLong("devices"), help: ArgumentHelp("The directory of device files.", valueName: "dir"))
    var devicesDirectory = "devices"

    @Option(name: .customLong("rules"), help: ArgumentHelp("The directory of rule files.", valueName: "dir"))
    var rulesDirectory = "rules"

    @Option(name: .customLong("database"), help: ArgumentHelp("The SQLite event log.", valueName: "file"))
    var databasePath = "homerules.sqlite"

    @Option(name: .customLong("retain-days"), help: "Days of events to keep; older ones are purged hourly.")
    var retainDays = 30

    @Option(name: .long, help: ArgumentHelp("Use this broker (mqtt://HOST:PORT) instead of the embedded one.", valueName: "url"))
    var broker: String?

    @Option(name: .long, help: "User name for --broker.")
    var username: String?

    @Option(name: .long, help: "Password for --broker.")
    var password: String?

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
        guard retainDays > 0 else { throw ValidationError("--retain-days must be at least 1") }
        if broker != nil && !listen.isEmpty {
            throw ValidationError("--listen configures the embedded broker; it cannot be combined with --broker")
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
        let daemon = try Daemon(configuration: try daemonConfiguration(), logger: logger)
        let group = ServiceGroup(services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    private func daemonConfiguration() throws -> DaemonConfiguration {
        DaemonConfiguration(
            broker: try brokerChoice(),
            devicesDirectory: URL(fileURLWithPath: devicesDirectory),
            rulesDirectory: URL(fileURLWithPath: rulesDirectory),
            databasePath: databasePath,
            retention: .seconds(retainDays * 86_400))
    }

    private func brokerChoice() throws -> DaemonConfiguration.Broker {
        if let broker {
            var configuration: MQTTClientConfiguration
            do {
                configuration = try MQTTClientConfiguration(url: broker)
            } catch {
                throw ValidationError("--broker \(broker): \(error)")
            }
            if let username { configuration.username = username }
            if let password { configuration.password = password }
            if configuration.clientID.isEmpty { configuration.clientID = "homerules-\(ProcessInfo.processInfo.hostName)" }
            return .external(configuration)
        }
        var configuration = BrokerConfiguration(
            maximumPacketSize: maximumPacketSize,
            maximumConnections: maximumConnections,
            maximumQueuedMessages: maximumQueuedMessages,
            maximumInflightMessages: maximumInflightMessages,
            maximumQueuedBytes: maximumQueuedBytes)
        if !listen.isEmpty {
            configuration.listeners = listen.compactMap(BrokerConfiguration.Listener.init(parsing:))
        }
        return .embedded(configuration)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
