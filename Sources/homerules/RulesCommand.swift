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
            or prints a one-line summary and exits with 0. A directory that does not exist counts as empty.
            """
    )

    @Option(name: .customLong("devices"), help: ArgumentHelp("The directory of device files.", valueName: "dir"))
    var devicesDirectory = "devices"

    @Option(name: .customLong("rules"), help: ArgumentHelp("The directory of rule files.", valueName: "dir"))
    var rulesDirectory = "rules"

    func run() throws {
        switch HomeLoader.load(
            devicesDirectory: URL(fileURLWithPath: devicesDirectory), rulesDirectory: URL(fileURLWithPath: rulesDirectory)
        ) {
        case .success(let home):
            print(home.summary)
        case .failure(let errors):
            printError(errors.description)
            throw ExitCode(1)
        }
    }
}
