import EventLog
import Foundation
@_spi(Testing) import HomeRules
import Rules
import TestSupport
import Testing

@Suite("homerules serve sends http actions", .timeLimit(.minutes(5)))
struct DaemonHTTPTests {
    static let devices = ["node.yaml": """
        id: node
        name: Living room
        sensors:
          temperature: { topic: test/node/temperature, type: number, unit: "°C" }
        """]

    static func rules(url: String) -> [String: String] {
        ["notify.yaml": """
            - id: too-hot
              when: { sensor: node.temperature, above: 28 }
              then:
                - http:
                    url: "\(url)/{{ secrets.ntfy_topic }}"
                    headers:
                      Authorization: "Bearer {{ secrets.ntfy_token }}"
                      Title: "{{ device.name }}"
                    body: "{{ device.name }} is {{ trigger.value }} °C"
                    retries: 1
            """]
    }

    @Test func aRuleNotifiesAWebServiceAndTheLogNeverHoldsItsSecrets() async throws {
        let server = try await HTTPTestServer(answers: [.status(502), .status(200)])
        defer { Task { await server.stop() } }
        let secrets = Secrets(values: ["ntfy_topic": "home-4f2a"], environment: ["ntfy_token": "tk_live_42"])
        let databasePath = try await DaemonHarness.with(devices: Self.devices, rules: Self.rules(url: server.url), secrets: secrets) { harness in
            let device = try await TestDevice.connect(id: "node", port: harness.port)
            let watcher = try await TestDevice.connect(id: "watcher", port: harness.port)
            try await device.publish("test/node/temperature", "27")
            try await device.publish("test/node/temperature", "28.5")

            let requests = await server.waitForRequests(2)
            #expect(requests.count == 2)
            let request = try #require(requests.last)
            #expect(request.method == "POST" && request.uri == "/home-4f2a")
            #expect(request.headers["authorization"] == "Bearer tk_live_42" && request.headers["title"] == "Living room")
            #expect(request.body == "Living room is 28.5 °C")

            let logged = try await harness.waitForEvents { $0.contains { $0.detail?.contains("answered 200 OK") == true } }
            let action = try #require(logged.first { $0.kind == .action && $0.rule == "too-hot" })
            #expect(action.detail == "http POST \(server.url)/***" && action.payload == "Living room is 28.5 °C")
            let answer = try #require(logged.first { $0.detail?.contains("answered 200 OK") == true })
            #expect(answer.cause == action.id)
            #expect(answer.detail?.hasSuffix("after 1 failed (502 Bad Gateway)") == true, "\(answer.detail ?? "")")
            // The answer's event is published like every other; nothing on the broker holds a secret.
            _ = try await watcher.waitForMessage(on: "homerules/events/action") { $0.contains("answered 200 OK") }
            let everything = watcher.allPayloads()
            #expect(!everything.contains { $0.contains("tk_live_42") || $0.contains("home-4f2a") })
            await device.disconnect()
            await watcher.disconnect()
            return harness.databasePath
        }
        // Nor anywhere in the log's files, once the daemon has stopped.
        for suffix in ["", "-wal"] {
            guard let bytes = FileManager.default.contents(atPath: databasePath + suffix) else { continue }
            #expect(bytes.range(of: Data("tk_live_42".utf8)) == nil && bytes.range(of: Data("home-4f2a".utf8)) == nil, "\(suffix)")
        }
    }

    @Test func aRuleUsingASecretNobodyGaveIsRefusedAtItsLine() async throws {
        try await DaemonHarness.with(devices: Self.devices, rules: Self.rules(url: "http://127.0.0.1:9")) { harness in
            let logged = try await harness.waitForEvents { $0.contains { $0.kind == .error } }
            let reload = try #require(logged.first { $0.kind == .reload })
            #expect(reload.detail == "start: refused, 2 error(s); running with no rules until the files are fixed")
            let errors = try #require(logged.first { $0.kind == .error && $0.cause == reload.id }?.detail)
            #expect(errors.contains(
                "notify.yaml:1:3: rule 'too-hot' uses secret 'ntfy_topic', which is not in the environment, and there is no secrets file"),
                "\(errors)")
        }
    }
}
