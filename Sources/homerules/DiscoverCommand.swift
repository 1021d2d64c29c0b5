import ArgumentParser
import Foundation
import HomeRules
import MQTT
import MQTTClient
import Rules

/// `homerules discover`: device files from what devices announce.
struct DiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "Propose device files from the Home Assistant discovery and Zigbee2MQTT announcements on the broker.",
        discussion: """
            Listens for the Home Assistant MQTT discovery configs that Tasmota, ESPHome, Zigbee2MQTT, Shelly and \
            OpenMQTTGateway publish (retained, on <prefix>/#) and for Zigbee2MQTT's device list (<base topic>/bridge/devices), \
            then prints one proposed devices/<id>.yaml per device and asks before writing them. An existing file is never \
            replaced without --force. Announcements with no counterpart in a device file are listed as not converted. \
            See docs/discovery.md. Exit status: 0 done (written or not); 3 the broker cannot be reached.
            """
    )

    @OptionGroup var definitions: DevicesOptions
    @OptionGroup var broker: BrokerOptions

    @Option(help: ArgumentHelp("Home Assistant's discovery prefix, as in its MQTT settings.", valueName: "prefix"))
    var prefix = "homeassistant"

    @Option(name: .customLong("base-topic"), help: ArgumentHelp("Zigbee2MQTT's base_topic.", valueName: "topic"))
    var baseTopic = "zigbee2mqtt"

    @Option(name: .customLong("for"), parsing: .unconditional, help: ArgumentHelp(
        "How long to listen; retained announcements arrive at once, live ones while it listens (500ms, 5s).", valueName: "duration"),
        transform: DurationArgument.parse)
    var listening = DurationArgument(argument: "5s")!

    @Flag(help: "Write the files without asking.")
    var yes = false

    @Flag(name: .customLong("dry-run"), help: "Only show what would be written.")
    var dryRun = false

    @Flag(help: "Replace existing files that differ from the proposal.")
    var force = false

    func validate() throws {
        if yes && dryRun { throw ValidationError("--yes and --dry-run contradict each other; give one") }
        for (option, topic) in [("--prefix", prefix), ("--base-topic", baseTopic)] where topic.isEmpty || topic.contains(where: { "#+".contains($0) }) {
            throw ValidationError("\(option) '\(topic)': give a topic without wildcards")
        }
    }

    func run() async throws {
        let collector = try await listen()
        let report = collector.report()
        let files = DiscoveryFiles(report: report, directory: definitions.directory, force: force)
        files.show()
        let writable = files.writable
        guard !writable.isEmpty else {
            printLine(report.proposals.isEmpty ? "no devices to propose" : "nothing to write")
            return
        }
        let count = "\(writable.count) file\(writable.count == 1 ? "" : "s")"
        if dryRun {
            printLine("dry run: nothing written; run again with --yes to write \(count)")
            return
        }
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                printLine("standard input is not a terminal: nothing written; run again with --yes to write \(count)")
                return
            }
            FileHandle.standardOutput.write(Data("Write \(count)? [y/N] ".utf8))
            guard let answer = readLine(strippingNewline: true), ["y", "yes"].contains(answer.lowercased()) else {
                printLine("nothing written")
                return
            }
        }
        try files.write(writable)
    }

    /// Subscribes, and takes every message until `--for` has passed.
    private func listen() async throws -> DiscoveryCollector {
        let configuration = try broker.clientConfiguration(clientIDPrefix: "homerules-discover")
        let client = try await BrokerConnection.connect(configuration)
        var collector = DiscoveryCollector(prefix: prefix, baseTopic: baseTopic)
        let feed: MessageFeed
        do {
            feed = try await MessageFeed.subscribe(client, to: collector.filters.map { TopicSubscription(filter: $0, qos: .atMostOnce) })
        } catch {
            await client.disconnect()
            throw BrokerConnection.unavailable(error, configuration: configuration)
        }
        printError("listening on \(collector.filters.joined(separator: " and ")) at \(configuration.host):\(configuration.port) for \(listening)")
        let deadline = feed.deadline(after: listening.duration)
        loop: for await item in feed.items {
            switch item {
            case .message(let message): collector.add(topic: message.topic, payload: Array(message.payload.readableBytesView))
            case .endOfRetained: break
            case .deadline: break loop
            }
        }
        deadline.cancel()
        feed.finish()
        await client.disconnect()
        return collector
    }
}

/// The proposed files against the devices directory: which are new,
/// unchanged, or differ from what is there.
struct DiscoveryFiles {
    enum Status: Equatable {
        case new
        case unchanged
        case differs
        /// Another file defines a device with the same id.
        case definedElsewhere(String)
    }

    struct File {
        let proposal: DeviceProposal
        let path: String
        let text: String
        let status: Status
    }

    let report: DiscoveryReport
    let files: [File]
    let force: Bool

    init(report: DiscoveryReport, directory: HomeDirectory, force: Bool = false) {
        self.report = report
        self.force = force
        let existing = (try? HomeLoader.loadDevices(from: directory.url).get())?.devices ?? []
        files = report.proposals.map { proposal in
            let path = (directory.path as NSString).appendingPathComponent(proposal.fileName)
            let text = DeviceYAMLWriter.yaml(for: proposal)
            let status: Status
            if let current = FileManager.default.contents(atPath: path) {
                status = current == Data(text.utf8) ? .unchanged : .differs
            } else if let other = existing.first(where: { $0.id == proposal.id }) {
                status = .definedElsewhere(other.location.path)
            } else {
                status = .new
            }
            return File(proposal: proposal, path: path, text: text, status: status)
        }
    }

    /// The files to write: the new ones, and with `--force` those that differ.
    var writable: [File] { files.filter { $0.status == .new || ($0.status == .differs && force) } }

    /// Each proposed file with its YAML, then what gives no file.
    func show() {
        for file in files {
            switch file.status {
            case .new: printLine("==> \(file.path) (new) <==")
            case .differs where force: printLine("==> \(file.path) (exists, differs, replaced with --force) <==")
            case .differs: printLine("==> \(file.path) (exists, differs, kept (use --force)) <==")
            case .unchanged:
                printLine("==> \(file.path) (unchanged) <==")
                continue
            case .definedElsewhere(let other):
                printLine("==> \(file.path) (kept: \(other) already defines a device '\(file.proposal.id)') <==")
            }
            FileHandle.standardOutput.write(Data((file.text + "\n").utf8))
        }
        for item in report.notConverted { printLine("not converted: \(item)") }
        for item in report.skipped { printLine("skipped: \(item)") }
        let devices = report.proposals.count
        printLine("\(devices) device\(devices == 1 ? "" : "s") proposed from \(report.configCount) discovery config\(report.configCount == 1 ? "" : "s")"
            + (report.notConverted.isEmpty ? "" : ", \(report.notConverted.count) not converted"))
    }

    func write(_ files: [File]) throws {
        for file in files {
            do {
                try FileManager.default.createDirectory(
                    atPath: (file.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try file.text.write(toFile: file.path, atomically: true, encoding: .utf8)
            } catch {
                printError("error: cannot write \(file.path): \(error.localizedDescription)")
                throw ExitCode(1)
            }
            printLine("wrote \(file.path)")
        }
    }
}
