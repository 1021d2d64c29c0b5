import ArgumentParser
import Logging
import MQTTClient

/// Connecting the CLI's short-lived clients, with the failures every command
/// reports the same way.
enum BrokerConnection {
    /// Logs only what a user must see, on standard error; the commands print
    /// their own account of connections.
    static let logger = Logger(label: "homerules.cli") { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .error
        return handler
    }

    /// A connected client, or the reason on stderr and exit status 3.
    static func connect(_ configuration: MQTTClientConfiguration) async throws -> MQTTClient {
        let client: MQTTClient
        do {
            client = try MQTTClient(configuration: configuration, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        do {
            try await client.connect()
        } catch {
            throw unavailable(error, configuration: configuration)
        }
        return client
    }

    /// Prints why talking to the broker failed and returns exit status 3.
    static func unavailable(_ error: any Error, configuration: MQTTClientConfiguration) -> ExitCode {
        printError("error: \(error)")
        switch error as? MQTTClientError {
        case .unreachable?, .connectTimeout?:
            printError("hint: start `homerules serve`, or name your broker with --broker mqtt://HOST:PORT")
        case .connectionRefused?:
            printError("hint: check --username and --password")
        default:
            break
        }
        return CLIExitCode.brokerUnavailable
    }
}
