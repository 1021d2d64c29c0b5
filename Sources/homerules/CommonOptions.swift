import ArgumentParser
import EventLog
import Foundation
import HomeRules
import MQTT
import MQTTClient
import Rules

/// `--devices DIR`: where the device definitions are.
struct DevicesOptions: ParsableArguments {
    @Option(name: .customLong("devices"), help: ArgumentHelp("The directory of device files (default: devices).", valueName: "dir"))
    var namedDevicesDirectory: String?

    var devicesDirectory: String { directory.path }

    var directory: HomeDirectory { .devices(named: namedDevicesDirectory) }

    /// The devices, or their errors on stderr and exit status 1.
    func loadDevices() throws -> Home {
        switch try checkedLoad() {
        case .success(let home):
            return home
        case .failure(let errors):
            printError(errors.description)
            throw ExitCode(1)
        }
    }
}

extension DevicesOptions {
    /// The devices for decoding what is shown, or nil (with a warning when
    /// the files have errors): a command that only displays still runs. A
    /// named directory that does not exist is an error, as everywhere.
    func loadDevicesForDisplay() throws -> Home? {
        switch try checkedLoad() {
        case .success(let home):
            return home
        case .failure(let errors):
            printError("warning: the device files have \(errors.diagnostics.count) error(s) (`homerules rules check` shows them); values are shown as sent")
            return nil
        }
    }

    private func checkedLoad() throws -> Result<Home, DiagnosticList> {
        try directory.check()
        return HomeLoader.loadDevices(from: directory.url)
    }
}

/// `--database FILE`: the event log, opened read-only beside a running daemon.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database"), help: ArgumentHelp("The SQLite event log that `serve` writes.", valueName: "file"))
    var databasePath = "homerules.sqlite"

    /// The database, or a clear message and exit status 1.
    func openReadOnly() throws -> EventDatabase {
        do {
            return try EventDatabase.openReadOnly(path: databasePath)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// `--broker URL` and credentials: how CLI commands reach MQTT.
struct BrokerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The broker to talk to (mqtt://HOST:PORT).", valueName: "url"))
    var broker = "mqtt://127.0.0.1:1883"

    @Option(name: .customLong("mqtt-version"), help: ArgumentHelp("The MQTT version to speak: 5, 3.1.1 or 3.1.", valueName: "version"))
    var mqttVersion: ProtocolVersion = .v3_1_1

    @Option(name: .long, help: "User name for the broker.")
    var username: String?

    @Option(name: .long, help: "Password for the broker.")
    var password: String?

    @Option(name: .long, help: ArgumentHelp("Trust the authority in this PEM file for a TLS broker (mosquitto_sub's --cafile); turns TLS on.", valueName: "file"))
    var cafile: String?

    @Option(name: .long, help: ArgumentHelp("This client's certificate, PEM, for a broker with require_certificate; turns TLS on.", valueName: "file"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("The private key of --cert, PEM.", valueName: "file"))
    var key: String?

    /// A client configuration for a short-lived CLI connection: no
    /// reconnecting, a short connect timeout, a recognisable client id.
    func clientConfiguration(clientIDPrefix: String) throws -> MQTTClientConfiguration {
        var configuration: MQTTClientConfiguration
        do {
            configuration = try MQTTClientConfiguration(url: broker)
        } catch {
            throw ValidationError("--broker \(broker): \(error)")
        }
        configuration.protocolVersion = mqttVersion
        if let username { configuration.username = username }
        if let password { configuration.password = password }
        configuration.applyTLSFiles(caFile: cafile, certificateFile: cert, keyFile: key)
        configuration.clientID = "\(clientIDPrefix)-\(ProcessInfo.processInfo.processIdentifier)"
        configuration.reconnect = .disabled
        configuration.connectTimeout = .seconds(5)
        return configuration
    }
}

extension ProtocolVersion: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { self == .v3_1_1 ? "3.1.1" : self == .v5 ? "5" : "3.1" }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension MQTTClientConfiguration {
    /// Turns TLS on when any of the files is given, as Mosquitto's clients
    /// do with `--cafile`, `--cert` and `--key`.
    mutating func applyTLSFiles(caFile: String?, certificateFile: String?, keyFile: String?) {
        guard caFile != nil || certificateFile != nil || keyFile != nil else { return }
        if tls == nil && port == MQTTClientConfiguration.defaultPort { port = MQTTClientConfiguration.defaultTLSPort }
        var options = tls ?? TLSOptions()
        if let caFile { options.trustRoots = .file(caFile) }
        if let certificateFile { options.certificateFile = certificateFile }
        if let keyFile { options.keyFile = keyFile }
        tls = options
    }
}

/// A directory of device or rule files, as the user named it or by default.
struct HomeDirectory {
    /// `--devices` or `--rules`, for messages.
    let option: String
    let path: String
    /// Whether the user named it (an option or the settings file): a
    /// default directory may be absent, a named one may not.
    let named: Bool

    var url: URL { URL(fileURLWithPath: path) }

    /// `--devices`: the one named, or `devices`.
    static func devices(named path: String?) -> HomeDirectory {
        HomeDirectory(option: "--devices", path: path ?? "devices", named: path != nil)
    }

    /// `--rules`: the one named, or `rules`.
    static func rules(named path: String?) -> HomeDirectory {
        HomeDirectory(option: "--rules", path: path ?? "rules", named: path != nil)
    }

    /// Exits with status 1 when a named directory does not exist; warns when
    /// a named one holds no YAML file.
    func check() throws {
        guard named else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            printError("error: \(option) \(path): no such directory")
            throw ExitCode(1)
        }
        if isDirectory.boolValue, !HomeLoader.containsYAMLFiles(url) {
            printError("warning: \(option) \(path): no .yaml or .yml file in it")
        }
    }
}

/// `--secrets FILE`: the values of `{{ secrets.<name> }}` in http actions,
/// for `serve` and `rules check` alike.
struct SecretsOptions: ParsableArguments {
    @Option(name: .customLong("secrets"), help: ArgumentHelp(
        "A YAML file of names and values for {{ secrets.<name> }} in http actions (default: secrets.yaml, if it exists; "
            + "a name it lacks is read from the environment).",
        valueName: "file"))
    var file: String?

    /// The secrets of `--secrets`, else of `named` (the settings'), else of
    /// `secrets.yaml` if it exists; a file named on purpose must read.
    /// Warns of a file every user can read.
    func load(named: String?) throws -> Secrets {
        let chosen = file ?? named
        switch Secrets.load(file: chosen ?? "secrets.yaml", required: chosen != nil) {
        case .success(let secrets):
            if let path = secrets.file, let mode = try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int,
               mode & 0o004 != 0 {
                printError("warning: \(path) can be read by every user of this machine; chmod 600 it")
            }
            return secrets
        case .failure(let errors):
            printError(errors.description)
            throw ExitCode(1)
        }
    }
}
