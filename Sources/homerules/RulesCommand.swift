import ArgumentParser
import Foundation
import Rules

/// `homerules rules ...`: working with device and rule files without a daemon.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check device and rule files.",
        subcommands: [RulesCheckCommand.self]
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

    @OptionGroup var devices: DevicesOptions

    @Option(name: .customLong("rules"), help: ArgumentHelp("The directory of rule files (default: rules).", valueName: "dir"))
    var namedRulesDirectory: String?

    func run() throws {
        let rules = HomeDirectory(option: "--rules", path: namedRulesDirectory ?? "rules", named: namedRulesDirectory != nil)
        try devices.directory.check()
        try rules.check()
        switch HomeLoader.load(devicesDirectory: devices.directory.url, rulesDirectory: rules.url) {
        case .success(let home):
            print(home.summary)
        case .failure(let errors):
            printError(errors.description)
            throw ExitCode(1)
        }
    }
}
