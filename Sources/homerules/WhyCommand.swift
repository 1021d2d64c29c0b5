import ArgumentParser
import EventLog
import Foundation
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
            decisions, fired and skipped, with their reasons, newest last. A name with a dot is an actuator \
            unless a rule has that id.
            """
    )

    @Argument(help: ArgumentHelp("An actuator as DEVICE.ACTUATOR, or a rule id.", valueName: "name"))
    var name: String

    @Option(help: "How many of a rule's latest decisions to show.")
    var limit = 10

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
        let state = try log.entityState(device: device, entity: actuator, role: .actuator)
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
        guard try log.hasEvents(forRule: name) else {
            var message = "unknown rule '\(name)': no event in \(database.databasePath) names it"
            if let device = home.device(id: name), let first = device.actuators.first {
                message += "; to ask about an actuator, name it as DEVICE.ACTUATOR, such as \(device.id).\(first.name)"
            }
            return .failure(UnknownName(message: message))
        }
        let decisions = try log.events(EventFilter(rule: name, kinds: [.ruleFired, .ruleSkipped], limit: limit))
        guard !decisions.isEmpty else {
            return .success("Rule \(name) has made no decisions that are still in the log.")
        }
        let heading = decisions.count == 1
            ? "Rule \(name), its latest decision:" : "Rule \(name), its latest \(decisions.count) decisions, newest last:"
        var lines = [heading]
        for decision in decisions {
            let cause = try decision.cause.flatMap { try log.event(id: $0) }
            let lost = try cause == nil && decision.cause.map(log.wasLost(eventID:)) == true
            let actions = decision.kind == .ruleFired ? try log.actions(causedBy: decision) : []
            lines.append(story.decision(decision, cause: cause, causeLost: lost, actions: actions) { action in
                action.device.flatMap(home.device(id:))?.actuator(named: action.entity ?? "")
            })
        }
        return .success(lines.joined(separator: "\n"))
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
