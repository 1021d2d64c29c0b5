import Foundation
import TestSupport
import Testing

@Suite("homerules rules check", .timeLimit(.minutes(5)))
struct RulesCheckCommandTests {
    private static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func theExampleHomeIsValid() async throws {
        let result = try await HomeRulesBinary.run(["rules", "check"], in: Self.repositoryRoot)
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
}
