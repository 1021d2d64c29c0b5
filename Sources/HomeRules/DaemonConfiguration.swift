import Foundation
import MQTTBroker
import MQTTClient
import Rules

/// Everything `homerules serve` is told.
public struct DaemonConfiguration: Sendable {
    /// Which broker the daemon works through.
    public enum Broker: Sendable {
        /// Run our own broker, with these settings.
        case embedded(BrokerConfiguration)
        /// Use an existing broker (Mosquitto, EMQX, ...) through our client.
        case external(MQTTClientConfiguration)
    }

    public var broker: Broker
    public var devicesDirectory: URL
    public var rulesDirectory: URL
    public var databasePath: String
    /// Events older than this are purged, hourly.
    public var retention: Duration
    /// How often `devices/` and `rules/` are checked for changes; nil leaves
    /// reloading to SIGHUP.
    public var reloadCheckInterval: Duration?
    /// How often the engine's state is saved for a restart, when it changed.
    public var snapshotInterval: Duration
    /// The zone of time triggers and time conditions.
    public var timeZone: TimeZone
    /// Where the home is, for `sun` triggers (nil: they never fire).
    public var location: GeoLocation?
    /// What `{{ secrets.<name> }}` stands for in `http` actions.
    public var secrets: Secrets
    /// After a restart: the grace period of restored presence, and how late
    /// a `delay` may end and still run the rest of its actions.
    public var restartPolicy: RestartPolicy
    /// Reads the home from the two directories, on a thread of its own;
    /// tests replace it to make a load take as long as they like.
    @_spi(Testing) public var loadHome: @Sendable (_ devices: URL, _ rules: URL) -> Result<Home, DiagnosticList> = {
        HomeLoader.load(devicesDirectory: $0, rulesDirectory: $1)
    }

    public init(
        broker: Broker = .embedded(BrokerConfiguration()),
        devicesDirectory: URL = URL(fileURLWithPath: "devices"),
        rulesDirectory: URL = URL(fileURLWithPath: "rules"),
        databasePath: String = "homerules.sqlite",
        retention: Duration = .seconds(30 * 86_400),
        reloadCheckInterval: Duration? = .seconds(1),
        snapshotInterval: Duration = .seconds(5),
        timeZone: TimeZone = .current,
        restartPolicy: RestartPolicy = RestartPolicy(),
        location: GeoLocation? = nil,
        secrets: Secrets = Secrets()
    ) {
        self.location = location
        self.secrets = secrets
        self.broker = broker
        self.devicesDirectory = devicesDirectory
        self.rulesDirectory = rulesDirectory
        self.databasePath = databasePath
        self.retention = retention
        self.reloadCheckInterval = reloadCheckInterval
        self.snapshotInterval = snapshotInterval
        self.timeZone = timeZone
        self.restartPolicy = restartPolicy
    }

    /// The daemon's own presence topic, `online` / `offline`, retained.
    public static let statusTopic = DaemonTopics.status
}
