import ArgumentParser
import MQTT
import MQTTClient
import Rules

/// The options of `set` and `toggle`.
struct ActuatorCommandOptions: ParsableArguments {
    @OptionGroup var devices: DevicesOptions
    @OptionGroup var broker: BrokerOptions

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "How long to wait for the actuator to report its new state on its state topic (3s, 500ms).",
        valueName: "duration"), transform: DurationArgument.parse)
    var timeout = DurationArgument(argument: "3s")!
}

/// One command to one actuator: publish its payload on the command topic
/// and, when the actuator has a state topic, wait for the state it reports.
///
/// The state topic is subscribed before the command goes out, so that a
/// fast device's answer is not missed; its retained message, if any, is the
/// state before the command, which `toggle` needs.
struct ActuatorCommand {
    /// What the command line asks for.
    enum Asked {
        /// `on`, `off`, or one of the actuator's payloads, as typed.
        case set(String)
        case toggle
    }

    /// What is sent, once the actuator is known.
    enum Request {
        case set(ActuatorSetting)
        case toggle
    }

    let target: ActuatorTarget
    let request: Request
    let timeout: DurationArgument

    /// Everything `set` and `toggle` do, from the command line's arguments
    /// to the printed outcome and the exit status.
    static func run(_ name: String, _ asked: Asked, options: ActuatorCommandOptions, clientIDPrefix: String) async throws {
        let home = try options.devices.loadDevices()
        let target: ActuatorTarget
        switch ActuatorTarget.resolve(name, in: home, devicesDirectory: options.devices.devicesDirectory) {
        case .success(let found): target = found
        case .failure(let failure):
            printError("error: \(failure)")
            throw CLIExitCode.unknownName
        }
        let request = try Self.request(asked, for: target)
        let configuration = try options.broker.clientConfiguration(clientIDPrefix: clientIDPrefix)
        let client = try await BrokerConnection.connect(configuration)
        let command = ActuatorCommand(target: target, request: request, timeout: options.timeout)
        do {
            let outcome = try await command.send(using: client, configuration: configuration)
            await client.disconnect()
            print(outcome)
        } catch {
            await client.disconnect()
            throw error
        }
    }

    /// Sends the command; returns the line to print, or prints the failure
    /// and throws its exit status.
    func send(using client: MQTTClient, configuration: MQTTClientConfiguration) async throws -> String {
        let actuator = target.actuator
        var feed: MessageFeed?
        var previous: ActuatorSetting?
        // A device whose state topic is its command topic cannot confirm: our own command would read as the echo.
        if let stateTopic = actuator.stateTopic, stateTopic != actuator.commandTopic {
            do {
                feed = try await MessageFeed.subscribe(client, to: [TopicSubscription(filter: stateTopic, qos: .atLeastOnce)])
            } catch {
                throw BrokerConnection.unavailable(error, configuration: configuration)
            }
        }
        var items = feed?.items.makeAsyncIterator()
        while let item = await items?.next() {
            if case .endOfRetained = item { break }
            if case .message(let message) = item, let setting = actuator.setting(reportedBy: Array(message.payload.readableBytesView)) {
                previous = setting
            }
        }

        let (payload, expected) = try plan(previous: previous)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let qos = QoS(rawValue: UInt8(clamping: actuator.qos)) ?? .atMostOnce
            try await client.publish(topic: actuator.commandTopic, payload: payload, qos: qos, retain: actuator.retain)
        } catch {
            throw BrokerConnection.unavailable(error, configuration: configuration)
        }
        guard let feed, let stateTopic = actuator.stateTopic else {
            let reason = actuator.stateTopic == nil ? "no state topic" : "its state topic is its command topic, so nothing"
            return "\(target.name): sent '\(payload)' to \(actuator.commandTopic) (\(reason) to confirm it)"
        }

        let deadline = feed.deadline(after: timeout.duration)
        defer { deadline.cancel() }
        var reported: ActuatorSetting?
        waiting: while let item = await items?.next() {
            switch item {
            case .message(let message):
                guard let setting = actuator.setting(reportedBy: Array(message.payload.readableBytesView)) else { continue }
                if expected == nil || setting == expected {
                    return "\(target.name) is \(setting) (confirmed in \((clock.now - start).milliseconds) ms)"
                }
                reported = setting
            case .deadline:
                break waiting
            case .endOfRetained:
                continue
            }
        }
        let heard = reported.map { "it reported \($0) on \(stateTopic)" } ?? "nothing reported its state on \(stateTopic)"
        printError("error: \(target.name) did not confirm: sent '\(payload)' to \(actuator.commandTopic), but \(heard) within \(timeout)")
        if reported == nil { printError("hint: is \(target.device.id) online? `homerules watch \(target.device.id)` shows it") }
        throw CLIExitCode.notConfirmed
    }

    /// The request for what was typed, or a usage error (before anything
    /// connects) when the actuator takes no such thing.
    private static func request(_ asked: Asked, for target: ActuatorTarget) throws -> Request {
        switch asked {
        case .toggle:
            guard target.actuator.isOnOff else {
                printError("error: cannot toggle \(target.name): it takes \(target.actuator.control.spoken), not on and off")
                printError("hint: use `homerules set \(target.name) VALUE`")
                throw CLIExitCode.usage
            }
            return .toggle
        case .set(let text):
            switch target.actuator.setting(named: text) {
            case .success(let setting): return .set(setting)
            case .failure(let problem):
                printError("error: \(target.name) \(problem)")
                throw CLIExitCode.usage
            }
        }
    }

    /// The payload to send and the setting to expect back (nil: either).
    private func plan(previous: ActuatorSetting?) throws -> (payload: String, expected: ActuatorSetting?) {
        switch request {
        case .set(let setting):
            return (target.actuator.commandPayload(for: setting), setting)
        case .toggle:
            let previous: ActuatorState? = if case .state(let state)? = previous { state } else { nil }
            if let toggle = target.actuator.togglePayload { return (toggle, previous.map { .state($0.toggled) }) }
            if let previous { return (target.actuator.commandPayload(for: .state(previous.toggled)), .state(previous.toggled)) }
            let reason = target.actuator.stateTopic.map { "its state is unknown (nothing retained on \($0))" }
                ?? "it has no state topic to read its state from"
            printError("error: cannot toggle \(target.name): \(reason), and it has no toggle payload")
            printError("hint: use `homerules set \(target.name) on` or `off`")
            throw CLIExitCode.stateUnknown
        }
    }
}
