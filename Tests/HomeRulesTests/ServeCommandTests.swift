import EventLog
import Foundation
import HomeRules
import Logging
import MQTTBroker
import MQTTClient
import Rules
import TestSupport
import Testing

@Suite("homerules serve: settings file and the process", .timeLimit(.minutes(5)))
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
            max_inflight_bytes: 65536
            """
        let settings = try ServeSettings.parse(yaml, path: "/srv/home/homerules.yaml").get()
        #expect(settings.devices == "/srv/home/my-devices")
        #expect(settings.rules == "/etc/homerules/rules")
        #expect(settings.database == "/srv/home/data/log.sqlite")
        #expect(settings.retainDays == 7 && settings.logLevel == "debug")
        #expect(settings.listeners?.map(\.description) == ["127.0.0.1:1883", "0.0.0.0:1884"])
        #expect(settings.maximumConnections == 50 && settings.maximumInflightMessages == 10)
        #expect(settings.maximumInflightBytes == 65536)
    }

    @Test func theRestartSettingsAreDurations() throws {
        let settings = try ServeSettings.parse("presence_grace_period: 90s\noverdue_delay_limit: 0\n", path: "homerules.yaml").get()
        #expect(settings.presenceGracePeriod == .seconds(90))
        #expect(settings.overdueDelayLimit == .zero)
        #expect(ServeSettings().presenceGracePeriod == nil)
    }

    @Test func theHomesLocationIsLatitudeAndLongitudeTogether() throws {
        let settings = try ServeSettings.parse("latitude: 51.5074\nlongitude: -0.1278\n", path: "homerules.yaml").get()
        #expect(settings.location == GeoLocation(latitude: 51.5074, longitude: -0.1278))
        #expect(try ServeSettings.parse("retain_days: 3\n", path: "homerules.yaml").get().location == nil)
        let cases = [
            ("latitude: 51.5\n", "homerules.yaml:1:11: error: give both 'latitude' and 'longitude' (degrees, north and east positive), or neither"),
            ("latitude: 95\nlongitude: 0\n", "homerules.yaml:1:11: error: 'latitude' must be from -90 to 90 (degrees, north positive), not 95.0"),
            ("latitude: 10\nlongitude: 200\n", "homerules.yaml:2:12: error: 'longitude' must be from -180 to 180 (degrees, east positive), not 200.0"),
            ("latitude: north\nlongitude: 0\n", "homerules.yaml:1:11: error: expected a number for 'latitude', found 'north'"),
        ]
        for (yaml, message) in cases {
            guard case .failure(let errors) = ServeSettings.parse(yaml, path: "homerules.yaml") else {
                Issue.record("expected an error for \(yaml)")
                continue
            }
            #expect(errors.description == message)
        }
    }

    @Test func settingsErrorsNameFileLineAndColumn() {
        let yaml = "retain_days: many\nlisten: 1883\nlisteners:\n  - { port: 70000 }\nlog_level: loud\n"
        guard case .failure(let errors) = ServeSettings.parse(yaml, path: "homerules.yaml") else {
            Issue.record("expected errors")
            return
        }
        #expect(errors.description == """
            homerules.yaml:1:14: error: expected a whole number from 1 to 36500 for 'retain_days', found 'many'
            homerules.yaml:2:1: error: unknown key 'listen' in the settings; did you mean 'listeners'?
            homerules.yaml:4:13: error: expected a whole number from 0 to 65535 for 'port', found '70000'
            homerules.yaml:5:12: error: unknown log level 'loud'; use one of trace, debug, info, notice, warning, error, critical
            """)
    }

    @Test func theOriginDocumentsTwoListenersWithTheirOwnSecurity() throws {
        let yaml = """
            per_listener_settings: true
            password_file: passwords
            listeners:
              - { port: 1883, host: 127.0.0.1, allow_anonymous: true }
              - { port: 1884, host: 0.0.0.0, allow_anonymous: false, acl_file: acl }
              - { port: 8883, host: 0.0.0.0, cafile: ca.crt, certfile: server.crt, keyfile: server.key, require_certificate: true }
            """
        let listeners = try #require(try ServeSettings.parse(yaml, path: "/etc/homerules/homerules.yaml").get().listeners)
        #expect(listeners.map(\.description) == ["127.0.0.1:1883", "0.0.0.0:1884", "0.0.0.0:8883"])
        #expect(listeners[0].security == .init(allowAnonymous: true, passwordFile: "/etc/homerules/passwords"))
        #expect(listeners[1].security == .init(allowAnonymous: false, passwordFile: "/etc/homerules/passwords", aclFile: "/etc/homerules/acl"))
        #expect(listeners[0].tls == nil)
        #expect(listeners[2].tls == .init(
            caFile: "/etc/homerules/ca.crt", certFile: "/etc/homerules/server.crt", keyFile: "/etc/homerules/server.key",
            requireCertificate: true))
    }

    @Test func listenerSettingsErrorsSayWhatIsMissing() {
        let yaml = """
            listeners:
              - { port: 1884, password_file: passwords }
              - { port: 8883, protocol: mqtts, certfile: server.crt }
              - { port: 1885, cafile: ca.crt, protocol: mqtt }
              - { port: 1886, protocol: ws }
            """
        guard case .failure(let errors) = ServeSettings.parse(yaml, path: "homerules.yaml") else {
            Issue.record("expected errors")
            return
        }
        #expect(errors.description == """
            homerules.yaml:2:19: error: 'password_file' in a listener needs 'per_listener_settings: true'; without it, set it at the top level for every listener
            homerules.yaml:3:5: error: a TLS listener needs both 'certfile' and 'keyfile' (`homerules certs DIR` makes them)
            homerules.yaml:4:19: error: 'cafile' is for TLS listeners (protocol: mqtts)
            homerules.yaml:5:29: error: unknown protocol 'ws'; use mqtt or mqtts
            """)
    }

    @Test func aBrokenSettingsFileStopsServeWithItsErrors() async throws {
        let directory = try TemporaryDirectory()
        try "max_connections: -3\n".write(to: directory.file("homerules.yaml"), atomically: true, encoding: .utf8)
        let result = try await HomeRulesBinary.run(["serve", "--config", "homerules.yaml"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("homerules.yaml:1:18: error: expected a whole number"))
    }

    @Test("the CLI checks the broker's limits as the settings file does", arguments: [
        (["--max-inflight-messages", "65536"], "--max-inflight-messages must be from 1 to 65535, not 65536", "max_inflight_messages: 65536"),
        (["--max-inflight-messages", "0"], "--max-inflight-messages must be from 1 to 65535, not 0", "max_inflight_messages: 0"),
        (["--max-inflight-bytes=-1"], "--max-inflight-bytes must be from 0 to 2147483647, not -1", "max_inflight_bytes: -1"),
        (["--max-packet-size", "8"], "--max-packet-size must be from 16 to 268435460, not 8", "max_packet_size: 8"),
        (["--slow-consumer-timeout=-1"], "--slow-consumer-timeout must be from 0 to 86400, not -1", "slow_consumer_timeout: -1"),
        (["--presence-grace-period", "0s"], "presence_grace_period must be from 1 s to 86400 s, not 0s", "presence_grace_period: 0s"),
        (["--overdue-delay-limit", "8d"], "overdue_delay_limit must be from 0 s to 604800 s, not 8d", "overdue_delay_limit: 8d"),
        (["--overdue-delay-limit", "soon"], "invalid overdue_delay_limit 'soon'", "overdue_delay_limit: soon"),
    ])
    func limitsOutOfBoundsAreRefusedByFlagAndFile(flags: [String], flagError: String, setting: String) async throws {
        let directory = try TemporaryDirectory()
        let byFlag = try await HomeRulesBinary.run(["serve"] + flags, in: directory.path)
        #expect(byFlag.status != 0)
        #expect(byFlag.stderr.contains(flagError), "\(byFlag.stderr)")
        try "\(setting)\n".write(to: directory.file("homerules.yaml"), atomically: true, encoding: .utf8)
        let byFile = try await HomeRulesBinary.run(["serve", "--config", "homerules.yaml"], in: directory.path)
        #expect(byFile.status == 1)
        #expect(byFile.stderr.contains("homerules.yaml:1:"), "\(byFile.stderr)")
    }

    @Test func aNamedDirectoryThatDoesNotExistStopsServe() async throws {
        let directory = try TemporaryDirectory()
        let result = try await HomeRulesBinary.run(["serve", "--listen", "127.0.0.1:0", "--rules", "rulez"], in: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr == "error: --rules rulez: no such directory\n")
        try "devices: devicez\n".write(to: directory.file("homerules.yaml"), atomically: true, encoding: .utf8)
        let bySettings = try await HomeRulesBinary.run(["serve", "--listen", "127.0.0.1:0", "--config", "homerules.yaml"], in: directory.path)
        #expect(bySettings.status == 1)
        #expect(bySettings.stderr == "error: --devices \(directory.file("devicez").path): no such directory\n")
    }

    @Test func aSecretsFileThatWasNamedMustReadAndOneEveryoneCanReadIsWarnedOf() async throws {
        let directory = try TemporaryDirectory()
        let missing = try await HomeRulesBinary.run(["serve", "--listen", "127.0.0.1:0", "--secrets", "vault.yaml"], in: directory.path)
        #expect(missing.status == 1)
        #expect(missing.stderr == "vault.yaml:1:1: error: cannot read the secrets file\n")
        try "- ntfy_topic\n".write(to: directory.file("vault.yaml"), atomically: true, encoding: .utf8)
        let broken = try await HomeRulesBinary.run(["serve", "--listen", "127.0.0.1:0", "--secrets", "vault.yaml"], in: directory.path)
        #expect(broken.status == 1)
        #expect(broken.stderr == "vault.yaml:1:1: error: expected a mapping for the secrets, found a list\n")
        // The default file is read too; the warning comes before anything else can stop serve.
        try "ntfy_topic: home-4f2a\n".write(to: directory.file("secrets.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.file("secrets.yaml").path)
        let open = try await HomeRulesBinary.run(["serve", "--listen", "127.0.0.1:0", "--rules", "rulez"], in: directory.path)
        #expect(open.status == 1)
        #expect(open.stderr == "warning: secrets.yaml can be read by every user of this machine; chmod 600 it\n"
            + "error: --rules rulez: no such directory\n")
    }

    @Test func aTakenPortSaysWhichAddressAndWhatToDo() async throws {
        // Another broker holds the port, as Mosquitto's service would hold 1883.
        let other = MQTTBroker(
            configuration: BrokerConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)], systemTopicInterval: nil),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await other.start()
        let port = other.boundAddresses.first?.port ?? 0
        let directory = try TemporaryDirectory()
        let result: ProcessResult
        do {
            result = try await HomeRulesBinary.run(["serve", "--listen", "127.0.0.1:\(port)"], in: directory.path)
        } catch {
            await other.shutdown()
            throw error
        }
        await other.shutdown()
        #expect(result.status == 1)
        let errors = result.stderr.split(separator: "\n").filter { !$0.contains(" info ") }
        #expect(errors == [
            "error: cannot listen on 127.0.0.1:\(port): the address is already in use",
            "hint: is Mosquitto (or another homerules serve) running? Stop it (sudo systemctl stop mosquitto), "
                + "or listen elsewhere: --listen 127.0.0.1:\(port + 1)",
        ], "\(result.stderr)")
    }

    @Test func serveRefusesADatabaseThatIsNotAnEventLogAndLeavesItAlone() async throws {
        let directory = try TemporaryDirectory()
        let database = directory.file("notes.sqlite").path
        let python = try Peers.require("python3")
        #expect(try await run(python, ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE notes (text)'); c.commit()", database]).status == 0)
        let result = try await HomeRulesBinary.run(["serve", "--listen", "0", "--database", "notes.sqlite"], in: directory.path)
        #expect(result.status != 0)
        #expect(result.stderr.contains(
            "notes.sqlite is an SQLite database but not a HomeRules event log (it holds the tables notes); "
                + "HomeRules will not add its tables to it: give --database another file"), "\(result.stderr)")
        #expect(!result.stderr.contains("SQLite error"))
        let tables = try await run(python, ["-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT group_concat(name) FROM sqlite_master').fetchone()[0])", database])
        #expect(tables.stdout == "notes\n")
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
        #expect(await serve.waitForOutput(timeout: 60) { $0.contains("serving 1 device") })
        let port = try #require(Self.port(in: serve.output))
        let watcher = try await TestDevice.connect(id: "watcher", port: port)
        _ = try await watcher.waitForMessage(on: "homerules/status") { $0 == "online" }

        serve.process.send(SIGHUP)
        #expect(await serve.waitForOutput(timeout: 60) { $0.contains("(SIGHUP)") })

        serve.process.send(SIGTERM)
        #expect(await serve.waitForExit(timeout: 30) == 0)
        _ = try await watcher.waitForMessage(on: "homerules/status") { $0 == "offline" }
        let events = try EventDatabase.openReadOnly(path: directory.file("homerules.sqlite").path).events(EventFilter())
        #expect(events.filter { $0.kind == .reload }.compactMap(\.detail).map { $0.components(separatedBy: ":")[0] } == ["start", "SIGHUP"])
        await watcher.disconnect()
    }

    @Test func sighupRereadsThePasswordFileWithoutDroppingClients() async throws {
        let directory = try TemporaryDirectory()
        #expect(try await HomeRulesBinary.run(["passwd", "-c", "-b", "passwords", "jake", "1234"], in: directory.path).status == 0)
        try """
            allow_anonymous: false
            password_file: passwords
            listeners:
              - { port: 0 }
            """.write(to: directory.file("homerules.yaml"), atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$1\" serve --config homerules.yaml", directory.path, HomeRulesBinary.path])
        defer { serve.stop() }
        #expect(await serve.waitForOutput(timeout: 60) { $0.contains("serving 0 devices") })
        let port = try #require(Self.port(in: serve.output))

        let jake = try MQTTClient(configuration: Self.login(port: port, "jake", "1234", id: "jake-1"), logger: quietLogger)
        _ = try await jake.connect()
        #expect(try await HomeRulesBinary.run(["passwd", "-b", "passwords", "jake", "5678"], in: directory.path).status == 0)
        serve.process.send(SIGHUP)
        #expect(await serve.waitForOutput(timeout: 60) { $0.contains("reloaded password, ACL and certificate files") })

        try await jake.publish(topic: "still/here", payload: "yes", qos: .atLeastOnce)
        let old = try MQTTClient(configuration: Self.login(port: port, "jake", "1234", id: "jake-2"), logger: quietLogger)
        await #expect(throws: MQTTClientError.self) { _ = try await old.connect() }
        let new = try MQTTClient(configuration: Self.login(port: port, "jake", "5678", id: "jake-3"), logger: quietLogger)
        _ = try await new.connect()
        await new.disconnect()
        await jake.disconnect()
    }

    private static func login(port: Int, _ user: String, _ password: String, id: String) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port)
        configuration.clientID = id
        configuration.username = user
        configuration.password = password
        configuration.reconnect = .disabled
        return configuration
    }

    /// The port from `listening on 127.0.0.1:PORT`.
    private static func port(in output: String) -> Int? {
        guard let range = output.range(of: "listening on 127.0.0.1:") else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }
}
