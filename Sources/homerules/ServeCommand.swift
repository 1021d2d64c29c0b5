import ArgumentParser
import Foundation
import HomeRules
import MQTT
import Logging
import MQTTBroker
import MQTTClient
import Rules
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the broker, the rules daemon and the event log.",
        discussion: """
            With no options: an MQTT broker on 127.0.0.1:1883 only (as Mosquitto 2 does), devices from ./devices, \
            rules from ./rules, events logged to ./homerules.sqlite. Reloads on SIGHUP and when a device or rule \
            file changes; stops gracefully on SIGINT and SIGTERM. Flags win over --config.
            """
    )

    @Option(name: .long, help: ArgumentHelp("A YAML file with the same settings (mosquitto.conf names for the broker).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Address to accept MQTT connections on, as HOST:PORT or PORT (repeatable; default 127.0.0.1:1883).", valueName: "host:port"))
    var listen: [String] = []

    @Option(name: .customLong("devices"), help: ArgumentHelp("The directory of device files (default: devices).", valueName: "dir"))
    var devicesDirectory: String?

    @Option(name: .customLong("rules"), help: ArgumentHelp("The directory of rule files (default: rules).", valueName: "dir"))
    var rulesDirectory: String?

    @Option(name: .customLong("database"), help: ArgumentHelp("The SQLite event log (default: homerules.sqlite).", valueName: "file"))
    var databasePath: String?

    @OptionGroup var secrets: SecretsOptions

    @Option(name: .customLong("retain-days"), help: "Days of events to keep; older ones are purged hourly (default: 30).")
    var retainDays: Int?

    @Option(name: .long, help: ArgumentHelp("Use this broker (mqtt://HOST:PORT) instead of the embedded one.", valueName: "url"))
    var broker: String?

    @Option(name: .customLong("mqtt-version"), help: ArgumentHelp("The MQTT version spoken with --broker: 3.1.1 (default), 5 or 3.1 (mqtt_version). With 5 the daemon's session outlives a lost connection by an hour: what was sent meanwhile arrives when it reconnects.", valueName: "version"))
    var mqttVersion: ProtocolVersion?

    @Option(name: .long, help: "User name for --broker.")
    var username: String?

    @Option(name: .long, help: "Password for --broker.")
    var password: String?

    @Option(name: .customLong("broker-cafile"), help: ArgumentHelp("Trust this authority (PEM) for a TLS --broker (bridge_cafile).", valueName: "file"))
    var brokerCAFile: String?

    @Option(name: .customLong("broker-certfile"), help: ArgumentHelp("The daemon's client certificate (PEM) for --broker (bridge_certfile).", valueName: "file"))
    var brokerCertFile: String?

    @Option(name: .customLong("broker-keyfile"), help: ArgumentHelp("The private key of --broker-certfile (bridge_keyfile).", valueName: "file"))
    var brokerKeyFile: String?

    @Option(name: .customLong("max-connections"), help: "Connections beyond this are closed on accept (max_connections; default 10000).")
    var maximumConnections: Int?

    @Option(name: .customLong("max-packet-size"), help: "Largest packet accepted, in bytes; larger ones close the connection (max_packet_size; default 16 MiB).")
    var maximumPacketSize: Int?

    @Option(name: .customLong("max-queued-messages"), help: "QoS 1 and 2 messages queued per client beyond the inflight window (max_queued_messages; default 1000).")
    var maximumQueuedMessages: Int?

    @Option(name: .customLong("max-inflight-messages"), help: "Outgoing QoS 1 and 2 messages awaiting acknowledgement per client (max_inflight_messages; default 256, Mosquitto's is 20).")
    var maximumInflightMessages: Int?

    @Option(name: .customLong("max-inflight-bytes"), help: "Topic and payload bytes of the outgoing QoS 1 and 2 messages awaiting acknowledgement per client; an empty window takes one message of any size (max_inflight_bytes; default 1 MiB; 0: no bound).")
    var maximumInflightBytes: Int?

    @Option(name: .customLong("max-queued-bytes"), help: "Bytes held per client: queued QoS 1/2 messages, and the socket backlog above which QoS 0 messages are dropped (max_queued_bytes; default 1 MiB; 0: no bound).")
    var maximumQueuedBytes: Int?

    @Option(name: .customLong("max-topic-alias"), help: "Topic aliases an MQTT 5 client may set up on a connection (max_topic_alias; default 10; 0: none).")
    var maximumTopicAlias: Int?

    @Option(name: .customLong("max-keepalive"), help: "The longest keepalive a client may use, 10 to 65535 s: an MQTT 5 client asking for more, or for none, is told this one; a 3.1.1 client is refused (max_keepalive; default 65535: any).")
    var maximumKeepAlive: Int?

    @Option(name: .customLong("persistent-client-expiration"), help: "Remove a persistent session whose client has been away this long: a number and h, d, w, m or y, like 14d (persistent_client_expiration; default: never).")
    var persistentClientExpiration: String?

    @Option(name: .customLong("slow-consumer-timeout"), help: "Seconds a subscriber may stay behind while the clients feeding it wait; then its excess is dropped (slow_consumer_timeout; default 10; 0: never wait).")
    var slowConsumerTimeout: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical (default: info).")
    var logLevel: Logger.Level?

    @Option(name: .customLong("presence-grace-period"), parsing: .unconditional, help: ArgumentHelp("After a restart, a device whose restored presence is not confirmed within this long goes offline, like 90s (presence_grace_period; default 1.5 times its keepalive, or 60s).", valueName: "duration"))
    var presenceGracePeriod: String?

    @Option(name: .customLong("overdue-delay-limit"), parsing: .unconditional, help: ArgumentHelp("After a restart, a delay that ended longer ago than this while the daemon was down is skipped with the rest of its actions, like 5m (overdue_delay_limit; default 5m; 0: always).", valueName: "duration"))
    var overdueDelayLimit: String?

    func validate() throws {
        for address in listen where BrokerConfiguration.Listener(parsing: address) == nil {
            throw ValidationError("--listen \(address): expected HOST:PORT or PORT")
        }
        if let retainDays, retainDays <= 0 { throw ValidationError("--retain-days must be positive") }
        if let persistentClientExpiration, BrokerConfiguration.parseExpiration(persistentClientExpiration) == nil {
            throw ValidationError("--persistent-client-expiration \(persistentClientExpiration): write a number and h, d, w, m or y, like 14d")
        }
        for (option, key, value) in [
            ("--presence-grace-period", "presence_grace_period", presenceGracePeriod), ("--overdue-delay-limit", "overdue_delay_limit", overdueDelayLimit),
        ] {
            guard let value, case .failure(let problem) = ServeSettings.restartDuration(value, for: key) else { continue }
            throw ValidationError("\(option): \(problem.message)")
        }
        let limits: [(String, Int?, ClosedRange<Int>)] = [
            ("--max-connections", maximumConnections, BrokerConfiguration.Bounds.maximumConnections),
            ("--max-packet-size", maximumPacketSize, BrokerConfiguration.Bounds.maximumPacketSize),
            ("--max-queued-messages", maximumQueuedMessages, BrokerConfiguration.Bounds.maximumQueuedMessages),
            ("--max-inflight-messages", maximumInflightMessages, BrokerConfiguration.Bounds.maximumInflightMessages),
            ("--max-inflight-bytes", maximumInflightBytes, BrokerConfiguration.Bounds.maximumInflightBytes),
            ("--max-queued-bytes", maximumQueuedBytes, BrokerConfiguration.Bounds.maximumQueuedBytes),
            ("--slow-consumer-timeout", slowConsumerTimeout, BrokerConfiguration.Bounds.slowConsumerTimeoutSeconds),
            ("--max-topic-alias", maximumTopicAlias, BrokerConfiguration.Bounds.maximumTopicAlias),
            ("--max-keepalive", maximumKeepAlive, BrokerConfiguration.Bounds.maximumKeepAlive),
        ]
        for (option, value, bounds) in limits {
            if let value, !bounds.contains(value) {
                throw ValidationError("\(option) must be from \(bounds.lowerBound) to \(bounds.upperBound), not \(value)")
            }
        }
    }

    func run() async throws {
        let settings = try loadSettings()
        let level = logLevel ?? settings.logLevel.flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "homerules")
        let devices = HomeDirectory.devices(named: devicesDirectory ?? settings.devices)
        let rules = HomeDirectory.rules(named: rulesDirectory ?? settings.rules)
        let secrets = try self.secrets.load(named: settings.secretsFile)
        try devices.check()
        try rules.check()
        let daemon = try Daemon(
            configuration: try daemonConfiguration(settings, devices: devices, rules: rules, secrets: secrets), logger: logger)
        let group = ServiceGroup(services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch let error as BrokerError {
            printError("error: \(error)")
            if case .cannotListen(let host, let port, .addressInUse) = error {
                printError("hint: is Mosquitto (or another homerules serve) running? Stop it (sudo systemctl stop mosquitto), "
                    + "or listen elsewhere: --listen \(host):\(port == 1883 ? 1884 : port + 1)")
            }
            throw ExitCode(1)
        }
    }

    private func loadSettings() throws -> ServeSettings {
        guard let config else { return ServeSettings() }
        switch ServeSettings.load(path: config) {
        case .success(let settings):
            return settings
        case .failure(let errors):
            printError(errors.description)
            throw ExitCode(1)
        }
    }

    private func daemonConfiguration(
        _ settings: ServeSettings, devices: HomeDirectory, rules: HomeDirectory, secrets: Secrets
    ) throws -> DaemonConfiguration {
        DaemonConfiguration(
            broker: try brokerChoice(settings),
            devicesDirectory: devices.url,
            rulesDirectory: rules.url,
            databasePath: databasePath ?? settings.database ?? "homerules.sqlite",
            retention: .seconds((retainDays ?? settings.retainDays ?? 30) * 86_400),
            restartPolicy: RestartPolicy(
                // Checked by `validate()` and the settings file already.
                presenceGracePeriod: presenceGracePeriod.flatMap { try? ServeSettings.restartDuration($0, for: "presence_grace_period").get() }
                    ?? settings.presenceGracePeriod,
                overdueDelayLimit: overdueDelayLimit.flatMap { try? ServeSettings.restartDuration($0, for: "overdue_delay_limit").get() }
                    ?? settings.overdueDelayLimit ?? RestartPolicy.defaultOverdueDelayLimit),
            location: settings.location,
            secrets: secrets)
    }

    private func brokerChoice(_ settings: ServeSettings) throws -> DaemonConfiguration.Broker {
        let listeners = listen.isEmpty ? settings.listeners : listen.compactMap { address in
            BrokerConfiguration.Listener(parsing: address).map { listener in
                var listener = listener
                listener.security = settings.security
                return listener
            }
        }
        if let url = broker ?? settings.broker {
            guard listeners == nil else {
                throw ValidationError("listeners configure the embedded broker; they cannot be combined with --broker")
            }
            var configuration: MQTTClientConfiguration
            do {
                configuration = try MQTTClientConfiguration(url: url)
            } catch {
                throw ValidationError("--broker \(url): \(error)")
            }
            if let username = username ?? settings.username { configuration.username = username }
            if let password = password ?? settings.password { configuration.password = password }
            configuration.applyTLSFiles(
                caFile: brokerCAFile ?? settings.bridgeCAFile, certificateFile: brokerCertFile ?? settings.bridgeCertFile,
                keyFile: brokerKeyFile ?? settings.bridgeKeyFile)
            if configuration.clientID.isEmpty { configuration.clientID = "homerules-\(ProcessInfo.processInfo.hostName)" }
            configuration.protocolVersion = mqttVersion ?? settings.brokerProtocolVersion ?? .v3_1_1
            if configuration.protocolVersion == .v5 { configuration.sessionExpiryInterval = Self.daemonSessionExpiry }
            return .external(configuration)
        }
        if mqttVersion != nil || settings.brokerProtocolVersion != nil {
            throw ValidationError("the MQTT version is for --broker: the embedded broker speaks 3.1, 3.1.1 and 5 to its clients")
        }
        let defaults = BrokerConfiguration()
        return .embedded(BrokerConfiguration(
            listeners: listeners ?? defaults.listeners,
            maximumPacketSize: maximumPacketSize ?? settings.maximumPacketSize ?? defaults.maximumPacketSize,
            maximumConnections: maximumConnections ?? settings.maximumConnections ?? defaults.maximumConnections,
            maximumQueuedMessages: maximumQueuedMessages ?? settings.maximumQueuedMessages ?? defaults.maximumQueuedMessages,
            maximumInflightMessages: maximumInflightMessages ?? settings.maximumInflightMessages ?? defaults.maximumInflightMessages,
            maximumInflightBytes: maximumInflightBytes ?? settings.maximumInflightBytes ?? defaults.maximumInflightBytes,
            maximumQueuedBytes: maximumQueuedBytes ?? settings.maximumQueuedBytes ?? defaults.maximumQueuedBytes,
            slowConsumerTimeout: (slowConsumerTimeout ?? settings.slowConsumerTimeout).map { .seconds(Int64($0)) }
                ?? defaults.slowConsumerTimeout,
            persistentClientExpiration: persistentClientExpiration.flatMap(BrokerConfiguration.parseExpiration)
                ?? settings.persistentClientExpiration,
            maximumTopicAlias: maximumTopicAlias ?? settings.maximumTopicAlias ?? defaults.maximumTopicAlias,
            maximumKeepAlive: maximumKeepAlive ?? settings.maximumKeepAlive ?? defaults.maximumKeepAlive))
    }

    /// How long an external MQTT 5 broker keeps the daemon's session after
    /// its connection drops: long enough for a broker's restart or a Wi-Fi
    /// hiccup, short enough not to hoard messages for a daemon that is gone.
    static let daemonSessionExpiry: UInt32 = 3600
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
