import ArgumentParser
import EventLog
import Foundation
import HomeRules
import MQTT
import MQTTClient
import Rules

/// The options of `rules enable`, `disable` and `run`.
struct RuleRequestOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The rule's id.", valueName: "rule"))
    var rule: String

    @OptionGroup var home: HomeOptions
    @OptionGroup var broker: BrokerOptions

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "How long to wait for the daemon to confirm (3s, 500ms).", valueName: "duration"),
        transform: DurationArgument.parse)
    var timeout = DurationArgument(argument: "3s")!
}

/// `rules enable`, `disable` and `run`: one request each, sent the same way.
protocol RuleRequestCommand: AsyncParsableCommand {
    static var request: RuleControl.Request { get }
    var options: RuleRequestOptions { get }
}

extension RuleRequestCommand {
    func run() async throws {
        try await RuleRequest.send(Self.request, options: options)
    }
}

/// `homerules rules enable RULE`.
struct RulesEnableCommand: RuleRequestCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable a rule in the running daemon, until `rules disable` (kept across reloads and restarts).")
    static let request = RuleControl.Request.enable

    @OptionGroup var options: RuleRequestOptions
}

/// `homerules rules disable RULE`.
struct RulesDisableCommand: RuleRequestCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable a rule in the running daemon, until `rules enable` (kept across reloads and restarts).")
    static let request = RuleControl.Request.disable

    @OptionGroup var options: RuleRequestOptions
}

/// `homerules rules run RULE`.
struct RulesRunCommand: RuleRequestCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a rule's actions now in the running daemon, whatever its triggers and conditions.",
        discussion: "The run is logged as a firing whose reason is \"run by hand (homerules rules run)\".")
    static let request = RuleControl.Request.run

    @OptionGroup var options: RuleRequestOptions
}

/// One request to the daemon over MQTT, and the wait for its answer: the
/// rule's retained `enabled` topic for enable and disable, the firing event
/// for run. Exit statuses as for `set`: 2 unknown rule, 3 no broker, 4 no answer.
enum RuleRequest {
    static func send(_ request: RuleControl.Request, options: RuleRequestOptions) async throws {
        let home = try options.home.load()
        guard home.rule(id: options.rule) != nil else {
            printError("error: unknown rule '\(options.rule)'\(Suggestion.didYouMean(options.rule, among: home.rules.map(\.id)))")
            throw CLIExitCode.unknownName
        }
        let configuration = try options.broker.clientConfiguration(clientIDPrefix: "homerules-rules")
        let client = try await BrokerConnection.connect(configuration)
        let answer = request == .run
            ? TopicSubscription(filter: Event.topicPrefix + EventKind.ruleFired.rawValue, qos: .atLeastOnce)
            : TopicSubscription(filter: RuleControl.enabledTopic(options.rule), qos: .atLeastOnce)
        let feed: MessageFeed
        do {
            feed = try await MessageFeed.subscribe(client, to: [answer])
            try await client.publish(
                topic: RuleControl.requestTopic(options.rule), payload: request.rawValue, qos: .atLeastOnce)
        } catch {
            await client.disconnect()
            throw BrokerConnection.unavailable(error, configuration: configuration)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let confirmed = await confirmation(in: feed, of: request, rule: options.rule, within: options.timeout.duration)
        await client.disconnect()
        guard confirmed else {
            printError("error: the daemon did not confirm 'rules \(request.rawValue) \(options.rule)' within \(options.timeout)")
            printError("hint: is `homerules serve` running on this broker? `homerules watch` shows it")
            throw CLIExitCode.notConfirmed
        }
        let done = request == .run ? "ran" : "is \(request == .enable ? "enabled" : "disabled")"
        print("rule \(options.rule) \(done) (confirmed by the daemon in \((clock.now - start).milliseconds) ms)")
    }

    /// Whether the daemon's answer came after the retained messages, within `timeout`.
    private static func confirmation(
        in feed: MessageFeed, of request: RuleControl.Request, rule: String, within timeout: Duration
    ) async -> Bool {
        let deadline = feed.deadline(after: timeout)
        defer { deadline.cancel() }
        var retainedDone = false
        for await item in feed.items {
            switch item {
            case .endOfRetained: retainedDone = true
            case .message(let message) where retainedDone && confirms(message, request, rule: rule): return true
            case .message: continue
            case .deadline: return false
            }
        }
        return false
    }

    private static func confirms(_ message: MQTTMessage, _ request: RuleControl.Request, rule: String) -> Bool {
        switch request {
        case .enable, .disable:
            return message.payloadString == "\(request == .enable)"
        case .run:
            guard let event = try? Event.fromJSON(Data(message.payload.readableBytesView)) else { return false }
            return event.rule == rule && event.detail == RuleControl.runReason
        }
    }
}
