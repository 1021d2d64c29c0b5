import ArgumentParser
import MQTTBroker

@main
struct HomeRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "homerules",
        abstract: "A home-automation rules engine with its own MQTT broker.",
        version: "homerules \(MQTTBroker.version)",
        subcommands: [
            ServeCommand.self, RulesCommand.self,
            DevicesCommand.self, EventsCommand.self, WhyCommand.self,
            SetCommand.self, ToggleCommand.self, WatchCommand.self, SimulateCommand.self, DiscoverCommand.self,
            PasswdCommand.self, CertsCommand.self,
            BenchCommand.self,
        ]
    )
}
