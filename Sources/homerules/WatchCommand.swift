import ArgumentParser
import EventLog
import Foundation
import MQTT
import MQTTClient
import Rules

/// `homerules watch [DEVICE...]`: what the daemon does, live.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Show presence changes, sensor values, rule decisions and actions as they happen.",
        discussion: """
            Follows the events the daemon publishes on homerules/events/#, one line each, and whether the \
            daemon is online (the retained homerules/status). With device ids, shows the events about those \
            devices, the rule decisions their messages led to and the actions of those rules; rule decisions \
            started by time show only without device ids. Runs until interrupted (SIGINT or SIGTERM), \
            reconnecting if the broker goes away. Exit status: 0 when interrupted; 3 when the broker cannot be \
            reached at start.
            """
    )

    @Argument(help: ArgumentHelp("Show only events about these devices (by id).", valueName: "device"))
    var devices: [String] = []

    @OptionGroup var definitions: DevicesOptions
    @OptionGroup var broker: BrokerOptions

    @Flag(help: "Print each event as a line of JSON, as the daemon publishes it; daemon status goes to standard error.")
    var json = false

    /// Where the daemon announces itself, retained.
    static let statusTopic = "homerules/status"

    func run() async throws {
        let home = try definitions.loadDevicesForDisplay()
        var configuration = try broker.clientConfiguration(clientIDPrefix: "homerules-watch")
        configuration.reconnect = .exponentialBackoff()
        let client = try await BrokerConnection.connect(configuration)
        let connectionEvents = client.connectionEvents()
        let feed: MessageFeed
        do {
            feed = try await MessageFeed.subscribe(client, to: [
                TopicSubscription(filter: Event.topicPrefix + "#", qos: .atMostOnce),
                TopicSubscription(filter: Self.statusTopic, qos: .atLeastOnce),
            ])
        } catch {
            await client.disconnect()
            throw BrokerConnection.unavailable(error, configuration: configuration)
        }
        printError("watching \(Event.topicPrefix)# on \(configuration.host):\(configuration.port); Ctrl-C stops")
        let (devices, json) = (self.devices, self.json)
        try await runUntilShutdownSignal({
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await event in connectionEvents { Self.report(event) }
                }
                group.addTask {
                    var printer = WatchPrinter(filter: WatchFilter(devices: devices), json: json, home: home)
                    for await item in feed.items { printer.show(item) }
                }
            }
        }, cleanup: {
            await client.disconnect()
            feed.finish()
        })
    }

    private static func report(_ event: MQTTClient.ConnectionEvent) {
        switch event {
        case .disconnected(let error?): printError("connection lost: \(error); reconnecting")
        case .connected: printError("reconnected")
        case .disconnected(nil), .reconnecting: break
        }
    }
}

/// Turns what `watch` receives into lines: events, and the daemon's status
/// when it changes.
struct WatchPrinter {
    var filter: WatchFilter
    let json: Bool
    private var daemonStatus: String?

    /// The definitions that decode sensor payloads, when they could be read.
    private let home: Home?

    init(filter: WatchFilter, json: Bool, home: Home? = nil) {
        self.filter = filter
        self.json = json
        self.home = home
    }

    mutating func show(_ item: MessageFeed.Item) {
        switch item {
        case .message(let message) where message.topic == WatchCommand.statusTopic:
            let status = message.payloadString.trimmingCharacters(in: .whitespacesAndNewlines)
            guard status != daemonStatus else { return }
            daemonStatus = status
            note("daemon is \(status)")
        case .message(let message):
            show(event: message)
        case .endOfRetained where daemonStatus == nil:
            note("daemon status unknown: nothing retained on \(WatchCommand.statusTopic) (is `homerules serve` running?)")
        case .endOfRetained, .deadline:
            break
        }
    }

    private mutating func show(event message: MQTTMessage) {
        let event: Event
        do {
            event = try Event.fromJSON(Data(message.payload.readableBytesView))
        } catch {
            printError("ignored a message on \(message.topic) that is not an event: \(message.payloadString.prefix(80))")
            return
        }
        guard filter.matches(event) else { return }
        guard json else {
            for line in EventLine.lines(for: event, decodingWith: home) { printLine(line) }
            return
        }
        // The daemon's own text, unless it would break the one-event-per-line promise.
        let text = message.payloadString.trimmingCharacters(in: .whitespacesAndNewlines)
        printLine(text.contains("\n") ? String(decoding: event.json(), as: UTF8.self) : text)
    }

    /// A line about the daemon rather than an event: kept off standard
    /// output in JSON mode, so that every line there is an event.
    private func note(_ text: String) {
        let line = "\(EventLine.clockTime(Date())) \(text)"
        if json { printError(line) } else { printLine(line) }
    }
}
