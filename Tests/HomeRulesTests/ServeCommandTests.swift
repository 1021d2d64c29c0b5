import EventLog
import Foundation
import HomeRules
import TestSupport
import Testing

@Suite("homerules serve: settings file and the process")
struct ServeCommandTests {
    @Test func settingsAreReadWithPathsRelativeToTheFile() throws {
        let yaml = """
            devices: my-devices
            rules: /etc/homerules/rules
            database: data/log.sqlite
            retain_days: 7
            log_level: debug
            listeners:
              - { port: 1883 }
              - { host: 0.0.0.0, port: 1884 }
            max_connections: 50
            max_inflight_messages: 10
            """
        let settings = try ServeSettings.parse(yaml, path: "/srv/home/homerules.yaml").get()
        #expect(settings.devices == "/srv/home/my-devices")
        #expect(settings.rules == "/etc/homerules/rules")
        #expect(settings.database == "/srv/home/data/log.sqlite")
        #expect(settings.retainDays == 7 && settings.logLevel == "debug")
        #expect(settings.listeners?.map(\.description) == ["127.0.0.1:1883", "0.0.0.0:1884"])
        #expect(settings.maximumConnections == 50 && settings.maximumInflightMessages == 10)
    }

    @Test func settingsErrorsNameFileLineAndColumn() {
        let yaml = "retain_days: many\nlisten: 1883\nlisteners:\n  - { host: x }\nlog_level: loud\n"
        guard case .failure(let errors) = ServeSettings.parse(yaml, path: "homerules.yaml") else {
            Issue.record("expected errors")
            return
        }
        #expect(errors.description == """
            homerules.yaml:1:14: error: expected a whole number from 1 to 36500 for 'retain_days', found 'many'
            homerules.yaml:2:1: error: unknown key 'listen' in the settings; did you mean 'listeners'?
            homerules.yaml:4:5: error: a listener needs 'port'
            homerules.yaml:5:12: error: unknown log level 'loud'; use one of trace, debug, info, notice, warning, error, critical
            """)
    }

    @Test func aBrokenSettingsFileStopsServeWithItsErrors() async throws {
        let directory = try TemporaryDirectory()
        try "max_connections: -3\n".write(to: directory.file("homerules.yaml"), atomically: true, encoding: .utf8)
        let result = try await HomeRulesBinary.run(["serve", "--config", "homerules.yaml"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("homerules.yaml:1:18: error: expected a whole number"))
    }

    @Test func serveReloadsOnSIGHUPAndStopsGracefullyOnSIGTERM() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.file("devices"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.file("rules"), withIntermediateDirectories: true)
        for (name, yaml) in TestHome.devices { try yaml.write(to: directory.file("devices/\(name)"), atomically: true, encoding: .utf8) }
        for (name, yaml) in TestHome.rules { try yaml.write(to: directory.file("rules/\(name)"), atomically: true, encoding: .utf8) }
        try "listeners:\n  - { port: 0 }\n".write(to: directory.file("homerules.yaml"), atomically: true, encoding: .utf8)

        let serve = try BackgroundProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$1\" serve --config homerules.yaml", directory.path, HomeRulesBinary.path])
        defer { serve.stop() }
        #expect(await serve.waitForOutput { $0.contains("serving 1 device") })
        let port = try #require(Self.port(in: serve.output))
        let watcher = try await TestDevice.connect(id: "watcher", port: port)
        _ = try await watcher.waitForMessage(on: "homerules/status") { $0 == "online" }

        kill(serve.pid, SIGHUP)
        #expect(await serve.waitForOutput { $0.contains("(SIGHUP)") })

        kill(serve.pid, SIGTERM)
        #expect(await serve.waitForExit(timeout: 10) == 0)
        _ = try await watcher.waitForMessage(on: "homerules/status") { $0 == "offline" }
        let events = try EventDatabase.openReadOnly(path: directory.file("homerules.sqlite").path).events(EventFilter())
        #expect(events.filter { $0.kind == .reload }.compactMap(\.detail).map { $0.components(separatedBy: ":")[0] } == ["start", "SIGHUP"])
        await watcher.disconnect()
    }

    /// The port from `listening on 127.0.0.1:PORT`.
    private static func port(in output: String) -> Int? {
        guard let range = output.range(of: "listening on 127.0.0.1:") else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }
}
