import ArgumentParser

@main
struct HomeRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "homerules",
        abstract: "A home-automation rules engine with its own MQTT broker.",
        subcommands: [ServeCommand.self, RulesCommand.self, BenchCommand.self, DevicesCommand.self, EventsCommand.self, WhyCommand.self]
    )
}
