import ArgumentParser
import Foundation
import HomeRules
import Rules

/// `homerules rules ...`: working with device and rule files without a daemon.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check, list, enable, disable and run rules.",
        subcommands: [
            RulesCheckCommand.self, RulesListCommand.self,
            RulesEnableCommand.self, RulesDisableCommand.self, RulesRunCommand.self,
        ]
    )
}

/// `homerules rules check`: loads and validates everything, reporting every
/// error of every file in one run.
struct RulesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the device and rule files.",
        discussion: """
            Prints every error as path:line:column: error: message and exits with 1, \
            or prints a one-line summary and exits with 0. The default directories (devices, rules) may be \
            absent and count as empty; a directory named with --devices or --rules must exist.
            """
    )

    @OptionGroup var home: HomeOptions
    @OptionGroup var secrets: SecretsOptions

    func run() throws {
        let home = try home.load()
        // As `serve` will: a rule using a secret with no value is refused at its line.
        if case .failure(let errors) = try secrets.load(named: nil).check(home) {
            printError(errors.description)
            throw ExitCode(1)
        }
        print(home.summary)
    }
}

/// `--devices DIR` and `--rules DIR`: the whole home, as `rules check` reads it.
struct HomeOptions: ParsableArguments {
    @OptionGroup var devices: DevicesOptions

    @Option(name: .customLong("rules"), help: ArgumentHelp("The directory of rule files (default: rules).", valueName: "dir"))
    var namedRulesDirectory: String?

    var rules: HomeDirectory { .rules(named: namedRulesDirectory) }

    /// The devices and rules, or their errors on stderr and exit status 1.
    func load() throws -> Home {
        try devices.directory.check()
        try rules.check()
        switch HomeLoader.load(devicesDirectory: devices.directory.url, rulesDirectory: rules.url) {
        case .success(let home):
            return home
        case .failure(let errors):
            printError(errors.description)
            throw ExitCode(1)
        }
    }
}
