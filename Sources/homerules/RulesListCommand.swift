import ArgumentParser
import EventLog
import Foundation
import HomeRules
import Rules

/// `homerules rules list`: every rule, whether it is enabled, and its latest
/// decision in the event log.
struct RulesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the rules: enabled or not, and each one's latest decision.",
        discussion: """
            ENABLED says yes or no, and why when it is not the file's say: disabled with `homerules rules \\
            disable` (kept across reloads and restarts until `rules enable`). The latest decision comes from \\
            the event log, when there is one.
            """
    )

    @OptionGroup var home: HomeOptions
    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let home = try home.load()
        let log = FileManager.default.fileExists(atPath: database.databasePath) ? try database.openReadOnly() : nil
        let overrides = log.map(RuleControl.overrides(in:)) ?? [:]
        let time = TimeText()
        var rows: [[String]] = []
        for rule in home.rules {
            let enabled = overrides[rule.id] ?? rule.enabled
            let why = overrides[rule.id] == nil ? (enabled ? "" : " (in its file)") : " (rules \(enabled ? "enable" : "disable"))"
            let latest = try log?.events(EventFilter(rule: rule.id, kinds: [.ruleFired, .ruleOtherwise, .ruleSkipped], limit: 1)).last
            let decision = latest.map { event in
                "\(time.moment(event.time))  \(WhyStory.verdict(of: event.kind))  \(EventText.oneLine(event.detail ?? ""))"
            } ?? "–"
            rows.append([rule.id, (enabled ? "yes" : "no") + why, decision])
        }
        guard !rows.isEmpty else {
            return print("No rules: \(self.home.rules.path) defines none.")
        }
        print(TextTable(header: ["RULE", "ENABLED", "LATEST DECISION"], rows: rows).rendered(), terminator: "")
    }
}
