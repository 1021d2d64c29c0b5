import ArgumentParser
import Foundation
import HomeRules
import MQTTClient
import Rules

/// `homerules simulate [DEVICE...]`: the devices of the definitions, played
/// by this process, each on its own MQTT connection.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Play the defined devices: presence, sensor values, and actuators that obey commands.",
        discussion: """
            Each device connects with its id as client id and a retained will that announces it offline on its \
            presence topic, announces itself online (retained), publishes its sensor values every interval (a \
            random walk around a mean, or a --ramp from one value to another), and obeys on, off and toggle payloads on its actuators' command topics, \
            echoing the new state on the state topic (retained). SIGINT or SIGTERM announces every device offline \
            and disconnects; SIGKILL leaves it to the broker's wills. Exit status: 0 when interrupted; 1 the \
            device files have errors or define no device; 2 unknown device or sensor; 3 the broker cannot be \
            reached.
            """
    )

    @Argument(help: ArgumentHelp("Simulate only these devices (by id); all of them by default.", valueName: "device"))
    var devices: [String] = []

    @OptionGroup var definitions: DevicesOptions
    @OptionGroup var broker: BrokerOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("How often each device publishes its sensor values (1s, 500ms).", valueName: "duration"), transform: DurationArgument.parse)
    var interval = DurationArgument(argument: "1s")!

    @Option(name: .customLong("mean"), help: ArgumentHelp(
        "The value a number sensor wanders around, as SENSOR=NUMBER; SENSOR is device.sensor, or a sensor name for every device that has it (repeatable).",
        valueName: "sensor=number"))
    var means: [SensorSetting] = []

    @Option(name: .customLong("spread"), help: ArgumentHelp(
        "How far a number sensor wanders from its mean, as SENSOR=NUMBER; 0 holds it at the mean (repeatable).",
        valueName: "sensor=number"))
    var spreads: [SensorSetting] = []

    @Option(name: .customLong("ramp"), help: ArgumentHelp(
        "Play a story instead of wandering: the sensor starts at FROM and moves in a straight line to TO over --ramp-duration, then stays there; as SENSOR=FROM..TO (repeatable).",
        valueName: "sensor=from..to"))
    var ramps: [SensorRampSetting] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("How long a --ramp takes from its first value to its last.", valueName: "duration"), transform: DurationArgument.parse)
    var rampDuration = DurationArgument(argument: "1m")!

    @Flag(help: "Also print every reading published.")
    var verbose = false

    func validate() throws {
        if let negative = spreads.first(where: { $0.value < 0 }) {
            throw ValidationError("--spread \(negative.sensor)=\(negative.value): a spread cannot be negative")
        }
    }

    func run() async throws {
        let home = try definitions.loadDevices()
        let selected = try select(from: home)
        try checkSettings(against: selected)
        var base = try broker.clientConfiguration(clientIDPrefix: "homerules-simulate")
        // As a board does: come back after the broker restarts, and be missed within seconds.
        base.reconnect = .exponentialBackoff()
        base.keepAlive = .seconds(10)
        let verbose = self.verbose
        let simulated = try selected.map { device in
            try SimulatedDevice(
                device: device, broker: base, behaviours: behaviours(for: device), logger: BrokerConnection.logger,
                onActivity: { SimulatorOutput.show($0, of: device, verbose: verbose) })
        }
        for (index, device) in simulated.enumerated() {
            do {
                try await device.connect()
            } catch {
                for started in simulated[..<index] { await started.goOffline() }
                throw BrokerConnection.unavailable(error, configuration: base)
            }
        }
        printError("simulating \(selected.map(\.id).joined(separator: ", ")) on \(base.host):\(base.port); Ctrl-C stops")
        let interval = self.interval.duration
        try await runUntilShutdownSignal({
            await withDiscardingTaskGroup { group in
                for device in simulated {
                    group.addTask { await device.run(every: interval) }
                }
            }
        }, cleanup: {
            await withDiscardingTaskGroup { group in
                for device in simulated {
                    group.addTask { await device.goOffline() }
                }
            }
        })
    }

    /// The devices named on the command line, or all of them.
    private func select(from home: Home) throws -> [Device] {
        guard !home.devices.isEmpty else {
            printError("error: no devices to simulate: '\(definitions.devicesDirectory)' defines none; use --devices DIR")
            throw CLIExitCode.invalidDefinitions
        }
        guard !devices.isEmpty else { return home.devices }
        return try devices.map { id in
            guard let device = home.device(id: id) else {
                printError("error: unknown device '\(id)'\(Suggestion.didYouMean(id, among: home.devices.map(\.id)))")
                throw CLIExitCode.unknownName
            }
            return device
        }
    }

    /// Every --mean and --spread must name a number sensor of a simulated device.
    private func checkSettings(against devices: [Device]) throws {
        let numberSensors = devices.map { device in (device, device.sensors.filter { $0.type == .number }) }
        let qualified = numberSensors.flatMap { device, sensors in
            sensors.map { QualifiedName(device: device.id, member: $0.name).description }
        }
        let names = Set(numberSensors.flatMap { $0.1.map(\.name) })
        let settings = means.map { ("--mean", $0.sensor) } + spreads.map { ("--spread", $0.sensor) }
            + ramps.map { ("--ramp", $0.sensor) }
        for (option, sensor) in settings where !names.contains(sensor) && !qualified.contains(sensor) {
            let hint = Suggestion.didYouMean(sensor, among: qualified + names.sorted())
            printError("error: \(option) \(sensor): no simulated number sensor has that name\(hint)")
            throw CLIExitCode.unknownName
        }
    }

    /// The walk of each number sensor of `device`: `device.sensor` settings
    /// win over plain `sensor` ones, which win over the defaults. A ramped
    /// sensor follows its line exactly unless given a spread.
    private func behaviours(for device: Device) -> [String: SensorBehaviour] {
        var result: [String: SensorBehaviour] = [:]
        let rampSteps = Int((rampDuration.duration / interval.duration).rounded())
        for sensor in device.sensors where sensor.type == .number {
            let qualified = QualifiedName(device: device.id, member: sensor.name).description
            func setting<Setting>(_ settings: [Setting], _ name: KeyPath<Setting, String>) -> Setting? {
                settings.last { $0[keyPath: name] == qualified } ?? settings.last { $0[keyPath: name] == sensor.name }
            }
            let defaults = SensorBehaviour.defaults(for: sensor)
            let ramp = setting(ramps, \.sensor).map { SensorRamp(from: $0.from, to: $0.to, steps: rampSteps) }
            result[sensor.name] = SensorBehaviour(
                mean: setting(means, \.sensor)?.value ?? defaults.mean,
                spread: setting(spreads, \.sensor)?.value ?? (ramp == nil ? defaults.spread : 0),
                ramp: ramp)
        }
        return result
    }
}
