import ArgumentParser
import EventLog
import Foundation
import HomeRules
import Rules

/// `homerules why`: why an actuator is in its state, or what a rule
/// decided lately and why, told from the chain of causes in the event log.
struct WhyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "Explain an actuator's state or a rule's latest decisions from the event log.",
        discussion: """
            For DEVICE.ACTUATOR: its state and the chain of causes of its latest action (the rule that \
            set it, the reason the rule fired, the message that started it). For a rule id: its latest \
            decisions (fired, otherwise, skipped) with their reasons, newest last, and its last firing even \
            when skips have pushed it out of that list. A name with a dot is an actuator unless a rule has that id.
            """
    )

    @Argument(help: ArgumentHelp("An actuator as DEVICE.ACTUATOR, or a rule id.", valueName: "name"))
    var name: String

    @Option(help: "How many of a rule's latest decisions to show.")
    var limit = 10

    @Flag(help: "For a rule: show only the decisions that ran actions (fired, otherwise), not the skips.")
    var fired = false

    @OptionGroup var devices: DevicesOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        guard !name.isEmpty else { throw ValidationError("name an actuator (DEVICE.ACTUATOR) or a rule") }
    }

    func run() throws {
        let home = try devices.loadDevices()
        let story = WhyStory(time: TimeText())
        let output = try database.read { log -> Result<String, UnknownName> in
            if let dot = name.lastIndex(of: "."), try !log.hasEvents(forRule: name) {
                let device = String(name[..<dot]), actuator = String(name[name.index(after: dot)...])
                return try explainActuator(device: device, actuator: actuator, log: log, home: home, story: story)
            }
            return try explainRule(log: log, home: home, story: story)
        }
        switch output {
        case .success(let text):
            print(text)
        case .failure(let unknown):
            printError("error: \(unknown.message)")
            throw ExitCode(1)
        }
    }

    private struct UnknownName: Error {
        var message: String
    }

    private func explainActuator(
        device: String, actuator: String, log: EventDatabase, home: Home, story: WhyStory
    ) throws -> Result<String, UnknownName> {
        let definition = home.device(id: device)?.actuator(named: actuator)
        // A number or choice actuator's value is its echo's, logged as a sensor's.
        let role: EntityStateRecord.Role = definition?.isOnOff == false ? .sensor : .actuator
        let state = try log.entityState(device: device, entity: actuator, role: role)
        let latest = try log.latestEvent(kind: .action, device: device, entity: actuator)
        guard definition != nil || state != nil || latest != nil else {
            return .failure(UnknownName(message: unknownActuatorMessage(device: device, actuator: actuator, home: home)))
        }
        var paragraphs = [story.currentState(of: name, state)]
        if let latest {
            let chain = try log.causeChain(of: latest.id)
            let lost = try chain.last?.cause.map(log.wasLost(eventID:)) ?? false
            paragraphs.append(story.actuatorStory(name: name, chain: chain, actuator: definition, lostCause: lost))
        } else {
            paragraphs.append("No action on \(name) is in the log: no rule has switched it (or retention removed those events).")
        }
        return .success(paragraphs.joined(separator: "\n"))
    }

    private func explainRule(log: EventDatabase, home: Home, story: WhyStory) throws -> Result<String, UnknownName> {
        let note = RuleControl.overrides(in: log)[name].map { enabled in
            enabled
                ? "Rule \(name) is enabled with `homerules rules enable`, though its file disables it."
                : "Rule \(name) is disabled with `homerules rules disable`: it makes no decisions until `homerules rules enable \(name)`."
        }
        guard try log.hasEvents(forRule: name) else {
            if let note { return .success(note) }
            var message = "unknown rule '\(name)': no event in \(database.databasePath) names it"
            if let device = home.device(id: name), let first = device.actuators.first {
                message += "; to ask about an actuator, name it as DEVICE.ACTUATOR, such as \(device.id).\(first.name)"
            }
            return .failure(UnknownName(message: message))
        }
        let runs: [EventKind] = [.ruleFired, .ruleOtherwise]
        let decisions = try log.events(EventFilter(rule: name, kinds: fired ? runs : runs + [.ruleSkipped], limit: limit))
        guard !decisions.isEmpty else {
            return .success("Rule \(name) has \(fired ? "not run its actions" : "made no decisions") in what is still in the log.")
        }
        let what = fired ? "runs" : "decisions"
        var lines = [decisions.count == 1
            ? "Rule \(name), its latest \(what.dropLast()):" : "Rule \(name), its latest \(decisions.count) \(what), newest last:"]
        // A rule on a chatty sensor skips every second: its last run must not vanish behind the skips.
        if !decisions.contains(where: { runs.contains($0.kind) }),
           let lastRun = try log.events(EventFilter(rule: name, kinds: runs, limit: 1)).last {
            lines = ["Rule \(name), its last run:"] + (try describe([lastRun], log: log, home: home, story: story)) + [lines[0]]
        }
        lines += try describe(decisions, log: log, home: home, story: story)
        return .success(([note].compactMap { $0 } + lines).joined(separator: "\n"))
    }

    private func describe(_ decisions: [Event], log: EventDatabase, home: Home, story: WhyStory) throws -> [String] {
        var lines: [String] = []
        for decision in decisions {
            let cause = try decision.cause.flatMap { try log.event(id: $0) }
            let lost = try cause == nil && decision.cause.map(log.wasLost(eventID:)) == true
            let actions = decision.kind == .ruleSkipped ? [] : try log.actions(causedBy: decision)
            lines.append(story.decision(decision, cause: cause, causeLost: lost, actions: actions) { action in
                action.device.flatMap(home.device(id:))?.actuator(named: action.entity ?? "")
            })
        }
        return lines
    }

    private func unknownActuatorMessage(device: String, actuator: String, home: Home) -> String {
        let start = "unknown actuator '\(device).\(actuator)': no event in \(database.databasePath) names it"
        guard let defined = home.device(id: device) else {
            return start + " and no file in \(devices.devicesDirectory) defines a device '\(device)'"
        }
        let names = defined.actuators.map { "\(device).\($0.name)" }
        return start + (names.isEmpty
            ? " and device \(device) has no actuators"
            : " and device \(device) has only \(names.joined(separator: ", "))")
    }
}
