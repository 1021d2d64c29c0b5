import Foundation
import MQTT
import MQTTBroker
import NIOCore
import Rules
import Yams

/// The settings of `homerules serve` read from `--config FILE`: the same
/// settings as its flags, which win over the file. Broker options use
/// mosquitto.conf's names.
///
/// ```yaml
/// devices: devices            # relative paths are relative to this file
/// rules: rules
/// database: homerules.sqlite
/// retain_days: 30
/// log_level: info
/// listeners:
///   - { host: 127.0.0.1, port: 1883 }
///   - { host: 0.0.0.0, port: 8883, cafile: certs/ca.crt, certfile: certs/server.crt, keyfile: certs/server.key }
/// allow_anonymous: false      # security for every listener; with
/// password_file: passwords    # per_listener_settings: true a listener
/// acl_file: acl               # may set these keys itself
/// max_connections: 10000
/// presence_grace_period: 90s  # after a restart; default 1.5 x a device's keepalive, or 60s
/// overdue_delay_limit: 5m     # a delay that ended longer ago while down is skipped
/// # or, to use an existing broker instead of the embedded one:
/// # broker: mqtt://192.168.1.10:1883
/// # mqtt_version: 5             # 3.1.1 unless set
/// # username: homerules
/// # password: secret
/// ```
public struct ServeSettings: Sendable, Equatable {
    public var devices: String?
    public var rules: String?
    public var database: String?
    /// `secrets_file`: the values of `{{ secrets.<name> }}`.
    public var secretsFile: String?
    public var retainDays: Int?
    /// Where the home is, for `sun` triggers: `latitude` and `longitude`, both or neither.
    public var location: GeoLocation?
    public var logLevel: String?
    public var broker: String?
    /// `mqtt_version`: the protocol spoken with `broker` (3.1.1 unless set).
    public var brokerProtocolVersion: ProtocolVersion?
    public var username: String?
    public var password: String?
    /// TLS files of the daemon's own connection to `broker`, with
    /// mosquitto.conf's bridge names.
    public var bridgeCAFile: String?
    public var bridgeCertFile: String?
    public var bridgeKeyFile: String?
    /// The listeners, with their security resolved (their own keys with
    /// `per_listener_settings`, the top-level ones otherwise).
    public var listeners: [BrokerConfiguration.Listener]?
    /// The top-level `allow_anonymous`, `password_file` and `acl_file`.
    public var security = BrokerConfiguration.Security()
    /// `per_listener_settings`: listeners may set their own security.
    public var perListenerSettings = false
    public var maximumConnections: Int?
    public var maximumPacketSize: Int?
    public var maximumQueuedMessages: Int?
    public var maximumInflightMessages: Int?
    public var maximumInflightBytes: Int?
    public var maximumQueuedBytes: Int?
    /// `max_topic_alias`: topic aliases an MQTT 5 client may set up.
    public var maximumTopicAlias: Int?
    /// `max_keepalive`: the longest keepalive a client may use.
    public var maximumKeepAlive: Int?
    /// `slow_consumer_timeout`, in seconds.
    public var slowConsumerTimeout: Int?
    /// `persistent_client_expiration`, as Mosquitto writes it (`14d`).
    public var persistentClientExpiration: TimeAmount?
    /// `presence_grace_period`: how long restored presence waits for its device.
    public var presenceGracePeriod: Duration?
    /// `overdue_delay_limit`: how late a `delay` may end and still run on.
    public var overdueDelayLimit: Duration?

    public init() {}

    static let keys = [
        "devices", "rules", "database", "retain_days", "log_level", "broker", "username", "password", "listeners",
        "max_connections", "max_packet_size", "max_queued_messages", "max_inflight_messages", "max_inflight_bytes",
        "max_queued_bytes", "slow_consumer_timeout", "persistent_client_expiration", "presence_grace_period", "overdue_delay_limit",
        "per_listener_settings", "allow_anonymous", "password_file", "acl_file", "latitude", "longitude", "secrets_file",
        "bridge_cafile", "bridge_certfile", "bridge_keyfile", "mqtt_version", "max_topic_alias", "max_keepalive",
    ]
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Reads a settings file; every error is reported at `file:line:column`.
    public static func load(path: String) -> Result<ServeSettings, DiagnosticList> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(DiagnosticList([Diagnostic("cannot read the file", at: SourceLocation(path: path, line: 1, column: 1))]))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let location = HomeLoader.invalidUTF8Location(in: data, path: path)
            return .failure(DiagnosticList([Diagnostic(HomeLoader.invalidUTF8Message, at: location)]))
        }
        return parse(text, path: path)
    }

    /// Reads settings from YAML text; `path` names it in errors and anchors
    /// relative paths.
    public static func parse(_ text: String, path: String) -> Result<ServeSettings, DiagnosticList> {
        var reader = YAMLReader(path: path)
        var settings = ServeSettings()
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        for document in reader.documents(of: text) {
            guard let mapping = reader.mapping(document, as: "the settings", allowed: keys) else { continue }
            // Listeners last: they inherit the top-level security, wherever it is written.
            for entry in mapping.entries where entry.key != "listeners" {
                settings.read(entry.key, entry.value, base: base, reader: &reader)
            }
            settings.readLocation(mapping, reader: &reader)
            if let listeners = mapping["listeners"] {
                settings.listeners = ListenerSettings.read(
                    listeners, defaults: settings.security, perListenerSettings: settings.perListenerSettings,
                    base: base, reader: &reader)
            }
        }
        guard reader.diagnostics.isEmpty else { return .failure(DiagnosticList(reader.diagnostics.diagnostics)) }
        return .success(settings)
    }

    /// `latitude` (-90 to 90, north positive) and `longitude` (-180 to 180, east positive), together.
    private mutating func readLocation(_ mapping: YAMLMapping, reader: inout YAMLReader) {
        let latitude = mapping["latitude"].flatMap { reader.number($0, for: "latitude") }
        let longitude = mapping["longitude"].flatMap { reader.number($0, for: "longitude") }
        switch (mapping["latitude"], mapping["longitude"]) {
        case (nil, nil):
            return
        case (let node?, nil), (nil, let node?):
            reader.error("give both 'latitude' and 'longitude' (degrees, north and east positive), or neither", at: node)
        case (let latitudeNode?, let longitudeNode?):
            guard let latitude, let longitude else { return }
            let bounds = [
                ("latitude", latitude, GeoLocation.latitudes, latitudeNode, "north"),
                ("longitude", longitude, GeoLocation.longitudes, longitudeNode, "east"),
            ]
            for (key, value, range, node, positive) in bounds where !range.contains(value) {
                let limits = "\(Int(range.lowerBound)) to \(Int(range.upperBound))"
                return reader.error("'\(key)' must be from \(limits) (degrees, \(positive) positive), not \(value)", at: node)
            }
            location = GeoLocation(latitude: latitude, longitude: longitude)
        }
    }

    private mutating func read(_ key: String, _ node: Node, base: URL, reader: inout YAMLReader) {
        switch key {
        case "devices": devices = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "rules": rules = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "database": database = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "secrets_file": secretsFile = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "retain_days": retainDays = reader.integer(node, for: key, in: 1...36_500)
        case "log_level":
            guard let level = reader.text(node, for: key) else { return }
            guard Self.logLevels.contains(level) else {
                reader.error("unknown log level '\(level)'; use one of \(Self.logLevels.joined(separator: ", "))", at: node)
                return
            }
            logLevel = level
        case "broker": broker = reader.text(node, for: key)
        case "mqtt_version":
            guard let name = reader.text(node, for: key) else { return }
            guard let version = ProtocolVersion(name: name) else {
                reader.error("unknown MQTT version '\(name)'; use \(ProtocolVersion.names)", at: node)
                return
            }
            brokerProtocolVersion = version
        case "max_topic_alias": maximumTopicAlias = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.maximumTopicAlias)
        case "max_keepalive": maximumKeepAlive = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.maximumKeepAlive)
        case "username": username = reader.text(node, for: key)
        case "password": password = reader.text(node, for: key)
        case "bridge_cafile": bridgeCAFile = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "bridge_certfile": bridgeCertFile = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "bridge_keyfile": bridgeKeyFile = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "per_listener_settings": perListenerSettings = reader.bool(node, for: key) ?? false
        case "allow_anonymous": security.allowAnonymous = reader.bool(node, for: key)
        case "password_file": security.passwordFile = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "acl_file": security.aclFile = reader.text(node, for: key).map { Self.resolve($0, against: base) }
        case "max_connections": maximumConnections = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.maximumConnections)
        case "max_packet_size": maximumPacketSize = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.maximumPacketSize)
        case "max_queued_messages": maximumQueuedMessages = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.maximumQueuedMessages)
        case "max_inflight_messages":
            maximumInflightMessages = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.maximumInflightMessages)
        case "max_inflight_bytes": maximumInflightBytes = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.maximumInflightBytes)
        case "max_queued_bytes": maximumQueuedBytes = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.maximumQueuedBytes)
        case "persistent_client_expiration":
            guard let text = reader.text(node, for: key) else { return }
            guard let expiration = BrokerConfiguration.parseExpiration(text) else {
                reader.error("invalid persistent_client_expiration '\(text)': write a number and h, d, w, m or y, like 14d", at: node)
                return
            }
            persistentClientExpiration = expiration
        case "presence_grace_period", "overdue_delay_limit":
            guard let text = reader.text(node, for: key) else { return }
            switch Self.restartDuration(text, for: key) {
            case .success(let duration):
                if key == "presence_grace_period" { presenceGracePeriod = duration } else { overdueDelayLimit = duration }
            case .failure(let problem):
                reader.error(problem.message, at: node)
            }
        case "slow_consumer_timeout":
            slowConsumerTimeout = reader.integer(node, for: key, in: BrokerConfiguration.Bounds.slowConsumerTimeoutSeconds)
        default: break
        }
    }

    /// The bounds of `presence_grace_period`: at least a second (a device
    /// cannot answer sooner), at most a day.
    public static let presenceGracePeriodBounds: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)
    /// The bounds of `overdue_delay_limit`: 0 skips every overdue delay.
    public static let overdueDelayLimitBounds: ClosedRange<Duration> = .zero ... .seconds(7 * 86_400)

    /// Why a restart setting is refused.
    public struct SettingProblem: Error, Sendable {
        public var message: String
    }

    /// `presence_grace_period` or `overdue_delay_limit` (or their flags): a
    /// duration such as `90s` or `5m` within its bounds.
    public static func restartDuration(_ text: String, for key: String) -> Result<Duration, SettingProblem> {
        let bounds = key.contains("grace") ? presenceGracePeriodBounds : overdueDelayLimitBounds
        let range = "from \(Int(bounds.lowerBound.timeInterval)) s to \(Int(bounds.upperBound.timeInterval)) s"
        guard let duration = DurationSyntax.parse(text) else {
            return .failure(SettingProblem(message: "invalid \(key) '\(text)': \(DurationSyntax.help), \(range)"))
        }
        guard bounds.contains(duration) else {
            return .failure(SettingProblem(message: "\(key) must be \(range), not \(text)"))
        }
        return .success(duration)
    }

    static func resolve(_ path: String, against base: URL) -> String {
        path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
    }
}
