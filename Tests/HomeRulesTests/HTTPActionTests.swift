import EventLog
import Foundation
@testable import HomeRules
import Logging
import MQTTBroker
import Rules
import Synchronization
import TestSupport
import Testing

@Suite("http actions: the sender, retries, secrets", .timeLimit(.minutes(5)))
struct HTTPActionTests {

    @Test func aPostCarriesItsHeadersAndBodyAndReadsTheAnswer() async throws {
        let server = try await HTTPTestServer(answers: [.status(201)])
        defer { Task { await server.stop() } }
        let sender = try HTTPSender()
        let answer = try await sender.send(HTTPSender.Request(
            method: "POST", url: "\(server.url)/notify/home?priority=high", headers: [("Title", "Hot"), ("X-Token", "s3cret")],
            body: "Living room is 28.4 °C", timeout: .seconds(30)))
        #expect(answer.status == 201 && answer.reason == "Created" && answer.body == "201 from the test server")
        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.uri == "/notify/home?priority=high")
        #expect(request.headers["title"] == "Hot" && request.headers["x-token"] == "s3cret")
        #expect(request.headers["host"] == "127.0.0.1:\(server.port)" && request.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(request.body == "Living room is 28.4 °C")
    }

    @Test func aServerThatNeverAnswersTimesOutAndARefusedPortSaysSo() async throws {
        let server = try await HTTPTestServer(answers: [.silence])
        defer { Task { await server.stop() } }
        let sender = try HTTPSender()
        await #expect(throws: HTTPSender.Failure.timedOut(.milliseconds(300))) {
            try await sender.send(HTTPSender.Request(method: "GET", url: server.url, timeout: .milliseconds(300)))
        }
        let closed = try freeLoopbackPort()
        do {
            _ = try await sender.send(HTTPSender.Request(method: "GET", url: "http://127.0.0.1:\(closed)/", timeout: .seconds(30)))
            Issue.record("a closed port answered")
        } catch {
            #expect("\(error)".hasPrefix("cannot connect to 127.0.0.1:\(closed): "), "\(error)")
            #expect(error.isWorthRetrying)
        }
    }

    @Test func aLineBreakInAHeaderOrABadURLIsRefusedBeforeAnythingIsSent() async throws {
        let server = try await HTTPTestServer()
        defer { Task { await server.stop() } }
        let sender = try HTTPSender()
        await #expect(throws: HTTPSender.Failure.invalidHeader("Title")) {
            try await sender.send(HTTPSender.Request(
                method: "GET", url: server.url, headers: [("Title", "hot\r\nX-Injected: yes")], timeout: .seconds(30)))
        }
        await #expect(throws: HTTPSender.Failure.invalidURL("'ftp://example.com' is not an http:// or https:// URL")) {
            try await sender.send(HTTPSender.Request(method: "GET", url: "ftp://example.com", timeout: .seconds(30)))
        }
        // The barrier: a good request after the refused one is the first the server sees.
        _ = try await sender.send(HTTPSender.Request(method: "GET", url: "\(server.url)/after", timeout: .seconds(30)))
        #expect(server.requests.map(\.uri) == ["/after"])
    }

    @Test func a503IsRetriedA404IsNotAndSecretsAreFilledInOnlyOnTheWire() async throws {
        let server = try await HTTPTestServer(answers: [.status(503), .status(200), .status(404)])
        defer { Task { await server.stop() } }
        let outcomes = Mutex<[HTTPActions.Outcome]>([])
        let actions = HTTPActions(
            sender: try HTTPSender(), secrets: Secrets(values: ["token": "tk_live_42"]), logger: Logger(label: "test")
        ) { outcome, _ in outcomes.withLock { $0.append(outcome) } }
        let request = HTTPRequest(
            rule: "notify", method: "POST",
            url: SecretText(parts: [.text("\(server.url)/hook/"), .secret("token")]),
            headers: [HTTPRequest.Header(name: "Authorization", value: SecretText(parts: [.text("Bearer "), .secret("token")]))],
            body: SecretText("hot"), timeout: .seconds(30), retries: 2)
        #expect(actions.send(request, action: 1))
        #expect(await CLIMQTTHarness.eventually { outcomes.withLock { $0.count } == 1 })
        #expect(actions.send(request, action: 2))
        #expect(await CLIMQTTHarness.eventually { outcomes.withLock { $0.count } == 2 })
        let requests = server.requests
        #expect(requests.map(\.uri) == ["/hook/tk_live_42", "/hook/tk_live_42", "/hook/tk_live_42"])
        #expect(requests.allSatisfy { $0.headers["authorization"] == "Bearer tk_live_42" })
        let details = outcomes.withLock { $0.map(\.detail) }
        #expect(details.count == 2)
        #expect(details[0].wholeMatch(of: #/http POST http://127\.0\.0\.1:\d+/hook/\*\*\* answered 200 OK in \d+ ms after 1 failed \(503 Service Unavailable\)/#) != nil, "\(details)")
        #expect(details[1].wholeMatch(of: #/http POST http://127\.0\.0\.1:\d+/hook/\*\*\* answered 404 Not Found: 404 from the test server in \d+ ms/#) != nil, "\(details)")
        #expect(!details.joined().contains("tk_live_42"))
    }

    @Test func httpsTrustsTheSystemsAuthoritiesOrTheGivenOne() async throws {
        let directory = try TemporaryDirectory()
        let certificates = try HomeCertificates(directory: directory.path, serverNames: .loopback).run()
        let server = try await HTTPTestServer(
            tls: (certificates.server.certificatePath, certificates.server.keyPath))
        defer { Task { await server.stop() } }
        let sender = try HTTPSender()
        let trusted = try await sender.send(HTTPSender.Request(
            method: "POST", url: "\(server.url)/message", body: "hi", timeout: .seconds(30),
            cafile: certificates.authority.certificatePath))
        #expect(trusted.status == 200)
        #expect(server.requests.map(\.body) == ["hi"])
        // The home's authority is not the system's: without `cafile` the handshake fails, and nothing is sent.
        do {
            _ = try await sender.send(HTTPSender.Request(method: "POST", url: "\(server.url)/message", body: "no", timeout: .seconds(30)))
            Issue.record("an untrusted certificate was accepted")
        } catch {
            #expect("\(error)".hasPrefix("TLS with 127.0.0.1 failed: "), "\(error)")
        }
        await #expect(throws: HTTPSender.Failure.self) {
            try await sender.send(HTTPSender.Request(
                method: "GET", url: server.url, timeout: .seconds(30), cafile: directory.file("absent.crt").path))
        }
        #expect(server.requests.map(\.body) == ["hi"])
    }

    @Test func finishingCancelsARequestOnItsWayAndReportsIt() async throws {
        let server = try await HTTPTestServer(answers: [.silence])
        defer { Task { await server.stop() } }
        let outcomes = Mutex<[HTTPActions.Outcome]>([])
        let actions = HTTPActions(sender: try HTTPSender(), secrets: Secrets(), logger: Logger(label: "test")) { outcome, _ in
            outcomes.withLock { $0.append(outcome) }
        }
        #expect(actions.send(HTTPRequest(rule: "r", method: "GET", url: SecretText(server.url), timeout: .seconds(300)), action: 1))
        _ = await server.waitForRequests(1)
        await actions.finish()
        #expect(outcomes.withLock { $0.map(\.failures) } == [["cancelled: the daemon is stopping"]])
    }

    @Test func noMoreThanSixteenRequestsAreOnTheirWay() async throws {
        let server = try await HTTPTestServer(answers: Array(repeating: .silence, count: 16))
        defer { Task { await server.stop() } }
        let actions = HTTPActions(sender: try HTTPSender(), secrets: Secrets(), logger: Logger(label: "test")) { _, _ in }
        let request = HTTPRequest(rule: "r", method: "GET", url: SecretText(server.url), timeout: .seconds(300))
        let accepted = (0..<17).map { actions.send(request, action: Int64($0)) }
        #expect(accepted == Array(repeating: true, count: 16) + [false])
        await actions.finish()
        #expect(actions.send(request, action: 18))
        await actions.finish()
    }

    @Test func aSecretsFileIsReadAndAMissingSecretStopsTheLoadAtTheRule() throws {
        let directory = try TemporaryDirectory()
        let file = directory.file("secrets.yaml")
        try "ntfy_topic: home-4f2a\ngotify_token: 'A.b-c'\n".write(to: file, atomically: true, encoding: .utf8)
        let secrets = try Secrets.load(file: file.path, required: true, environment: ["TELEGRAM_TOKEN": "123:abc"]).get()
        #expect(secrets.value("ntfy_topic") == "home-4f2a" && secrets.value("TELEGRAM_TOKEN") == "123:abc")
        #expect(secrets.value("HOME") == nil)
        let home = try HomeLoader.load(
            deviceFiles: [],
            ruleFiles: [SourceFile(path: "rules/notify.yaml", text: """
                - id: notify
                  when: { mqtt: doorbell }
                  then:
                    - http:
                        url: "https://ntfy.sh/{{ secrets.ntfy_topic }}"
                        headers: { Authorization: "Bearer {{ secrets.ntfy_token }}" }
                        body: Someone is at the door
                """)]).get()
        guard case .failure(let errors) = secrets.check(home) else { Issue.record("a missing secret passed"); return }
        #expect(errors.description == "rules/notify.yaml:1:3: error: rule 'notify' uses secret 'ntfy_token', which is neither in \(file.path) nor in the environment")
        #expect(throws: DiagnosticList.self) { try Secrets.load(file: directory.file("absent.yaml").path, required: true).get() }
        #expect(try Secrets.load(file: directory.file("absent.yaml").path, required: false, environment: [:]).get().names.isEmpty)
    }
}
