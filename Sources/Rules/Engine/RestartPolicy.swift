import Foundation

/// How the engine treats what it restored after a restart (`serve`'s
/// `presence_grace_period` and `overdue_delay_limit`).
public struct RestartPolicy: Sendable, Hashable {
    /// How long a device whose presence was restored may stay unheard
    /// before it goes offline; nil derives it per device (`gracePeriod(of:)`).
    public var presenceGracePeriod: Duration?
    /// A `delay` that ended while the daemon was down, longer ago than
    /// this, is skipped with the rest of its actions: a command that late
    /// may surprise more than the one missed.
    public var overdueDelayLimit: Duration

    /// The grace period of a device that declares no `keepalive`.
    public static let defaultGracePeriod: Duration = .seconds(60)
    public static let defaultOverdueDelayLimit: Duration = .seconds(300)

    public init(presenceGracePeriod: Duration? = nil, overdueDelayLimit: Duration = Self.defaultOverdueDelayLimit) {
        self.presenceGracePeriod = presenceGracePeriod
        self.overdueDelayLimit = overdueDelayLimit
    }

    /// The setting when there is one; otherwise one and a half times the
    /// device's MQTT `keepalive` (when an MQTT broker gives up on a silent
    /// client), or 60 s.
    public func gracePeriod(of device: Device) -> Duration {
        if let presenceGracePeriod { return presenceGracePeriod }
        if let keepalive = device.presence?.keepalive { return keepalive * 1.5 }
        return Self.defaultGracePeriod
    }
}
