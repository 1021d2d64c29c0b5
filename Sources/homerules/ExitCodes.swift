import ArgumentParser

/// The exit statuses of the commands that talk MQTT, so that scripts can
/// tell the failures apart. ArgumentParser's usage errors exit with 64.
enum CLIExitCode {
    /// The device files have errors (as `rules check` reports them).
    static let invalidDefinitions = ExitCode(1)
    /// A device, actuator or sensor that the definitions do not have.
    static let unknownName = ExitCode(2)
    /// The broker cannot be reached, refused the connection, or dropped it.
    static let brokerUnavailable = ExitCode(3)
    /// The command was sent, but the actuator did not report the expected
    /// state on its state topic in time.
    static let notConfirmed = ExitCode(4)
    /// `toggle` cannot tell what to send: no toggle payload, and no retained
    /// state to toggle from.
    static let stateUnknown = ExitCode(5)
    /// A usage error found once the definitions are read, numbered as
    /// ArgumentParser numbers its own: `set x.y maybe`.
    static let usage = ExitCode(64)
}
