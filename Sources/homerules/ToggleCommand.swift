import ArgumentParser

/// `homerules toggle DEVICE.ACTUATOR`.
struct ToggleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toggle",
        abstract: "Switch an actuator to the other state over MQTT and wait for it to confirm.",
        discussion: """
            Sends the actuator's toggle payload when it has one (Tasmota's TOGGLE). Otherwise reads the current \
            state from the retained message on its state topic and sends the opposite payload. Exit status: 0 \
            confirmed (or sent, without a state topic); 1 the device files have errors; 2 unknown device or \
            actuator; 3 the broker cannot be reached; 4 no confirmation in time; 5 no toggle payload and the \
            current state is unknown.
            """
    )

    @Argument(help: ArgumentHelp("The actuator, as in the rules: desk-plug.relay.", valueName: "device.actuator"))
    var actuator: String

    @OptionGroup var options: ActuatorCommandOptions

    func run() async throws {
        try await ActuatorCommand.run(actuator, .toggle, options: options, clientIDPrefix: "homerules-toggle")
    }
}
