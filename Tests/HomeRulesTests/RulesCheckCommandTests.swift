import Foundation
import TestSupport
import Testing

@Suite("homerules rules check", .timeLimit(.minutes(5)))
struct RulesCheckCommandTests {
    @Test func theHomeAtTheRepositoryRootIsValid() async throws {
        // The example home and whatever a user added beside it: valid, whatever the counts.
        let result = try await HomeRulesBinary.run(["rules", "check"], in: ExampleHomeFiles.repositoryRoot.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.wholeMatch(of: /\d+ devices?, \d+ sensors?, \d+ actuators?, \d+ rules?\n/) != nil)
    }

    @Test func theShippedExampleHomeIsWhatREADMESays() async throws {
        let directory = try TemporaryDirectory()
        try ExampleHomeFiles.copy(to: directory.url)
        let result = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(result.status == 0)
        #expect(result.stdout == "3 devices, 5 sensors, 2 actuators, 3 rules\n")
    }

    @Test func errorsNameFileLineAndColumnAndExitWith1() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("devices"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.file("rules"), withIntermediateDirectories: true)
        try "id: lamp\nname: Lamp\nconvention: tasmota\nactuators:\n  light: { command_topic: home/lamp/set }\n"
            .write(to: directory.file("devices/lamp.yaml"), atomically: true, encoding: .utf8)
        try "- id: r\n  when: { device: lamp, goes: offline }\n  then:\n    - set: lamp.lihgt\n      to: on\n"
            .write(to: directory.file("rules/r.yaml"), atomically: true, encoding: .utf8)
        let result = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("rules/r.yaml:4:12: error: "))
        #expect(result.stderr.contains("lihgt"))
    }

    @Test func aSecretNobodyGaveIsAnErrorAtItsRuleAsServeWouldSay() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("rules"), withIntermediateDirectories: true)
        try "- id: notify\n  when: { mqtt: doorbell }\n  then:\n    - http: { url: \"https://ntfy.sh/{{ secrets.ntfy_topic }}\" }\n"
            .write(to: directory.file("rules/notify.yaml"), atomically: true, encoding: .utf8)
        let missing = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(missing.status == 1)
        #expect(missing.stderr == "rules/notify.yaml:1:3: error: rule 'notify' uses secret 'ntfy_topic', which is not in the environment, "
            + "and there is no secrets file\n")
        try "ntfy_topic: home-4f2a\n".write(to: directory.file("vault.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory.file("vault.yaml").path)
        let given = try await HomeRulesBinary.run(["rules", "check", "--secrets", "vault.yaml"], in: directory.path)
        #expect(given.status == 0, "\(given.stderr)")
        #expect(given.stdout == "0 devices, 0 sensors, 0 actuators, 1 rule\n")
    }

    @Test func aNamedDirectoryMustExistAndAnEmptyOneIsAWarning() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("empty"), withIntermediateDirectories: true)
        let missing = try await HomeRulesBinary.run(["rules", "check", "--rules", "rulez"], in: directory.path)
        #expect(missing.status == 1 && missing.stdout.isEmpty)
        #expect(missing.stderr == "error: --rules rulez: no such directory\n")
        let empty = try await HomeRulesBinary.run(["rules", "check", "--devices", "empty"], in: directory.path)
        #expect(empty.status == 0 && empty.stdout == "0 devices, 0 sensors, 0 actuators, 0 rules\n")
        #expect(empty.stderr == "warning: --devices empty: no .yaml or .yml file in it\n")
        // Left to their defaults, absent directories are an empty home: serve works with no files at all.
        let defaults = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(defaults.status == 0 && defaults.stderr.isEmpty)
    }

    @Test func oneMistakeGivesOneError() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("devices"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.file("rules"), withIntermediateDirectories: true)
        try "id: node\nsensors:\n  temperature: { topic: a/b, type: float }\n"
            .write(to: directory.file("devices/node.yaml"), atomically: true, encoding: .utf8)
        try "- id: r\n  when: { sensor: node.temprature, above: 3 }\n  then:\n    - publish: { topic: x, payload: \"{{ device.name }}\" }\n"
            .write(to: directory.file("rules/r.yaml"), atomically: true, encoding: .utf8)
        let result = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(result.status == 1)
        // The broken sensor is still a name the user meant; the template's device is the trigger's, which has its own error.
        #expect(result.stderr == """
            devices/node.yaml:3:36: error: unknown sensor type 'float'; use number, boolean or string
            rules/r.yaml:2:19: error: device 'node' has no sensor 'temprature'; did you mean 'temperature'?

            """)
    }

    @Test func invalidUTF8IsReportedWhereItIs() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("devices"), withIntermediateDirectories: true)
        try Data("id: node\nname: caf".utf8 + [0xE9] + Data("\n".utf8)).write(to: directory.file("devices/node.yaml"))
        let result = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr == "devices/node.yaml:2:10: error: the file is not valid UTF-8 here; save it as UTF-8\n")
    }

    @Test func aNonASCIIIdSaysASCII() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("devices"), withIntermediateDirectories: true)
        try "id: café\n".write(to: directory.file("devices/node.yaml"), atomically: true, encoding: .utf8)
        let result = try await HomeRulesBinary.run(["rules", "check"], in: directory.path)
        #expect(result.stderr == "devices/node.yaml:1:5: error: invalid id 'café': use ASCII letters (a-z, A-Z), digits, '-' and '_' only\n")
    }
}
