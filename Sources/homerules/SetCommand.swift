import ArgumentParser
import Rules

/// `homerules set DEVICE.ACTUATOR on|off`.
struct SetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Switch an actuator on or off over MQTT and wait for it to confirm.",
        discussion: """
            Publishes the actuator's on or off payload on its command topic, with its qos and retain. When the \
            actuator has a state topic, waits for the device to report the new state there. Exit status: 0 \
            confirmed (or sent, without a state topic); 1 the device files have errors; 2 unknown device or \
            actuator; 3 the broker cannot be reached; 4 no confirmation in time.
            """
    )

    @Argument(help: ArgumentHelp("The actuator, as in the rules: livingroom-node.led.", valueName: "device.actuator"))
    var actuator: String

    @Argument(help: ArgumentHelp(
        "The state to switch to: on or off, in any case, or one of the actuator's own on and off payloads.",
        valueName: "state"))
    var state: String

    @OptionGroup var options: ActuatorCommandOptions

    func run() async throws {
        try await ActuatorCommand.run(actuator, .set(state), options: options, clientIDPrefix: "homerules-set")
    }
}

