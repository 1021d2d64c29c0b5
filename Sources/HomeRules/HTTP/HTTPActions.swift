import Foundation
import Logging
import Rules
import Synchronization

/// Sends the rules' `http` actions beside the daemon's loop, so that a slow
/// web service never holds up a sensor's command.
///
/// Bounded: at most ``maximumInFlight`` requests at once; one more is
/// refused and reported. Each request is tried once and then up to its
/// `retries` times more after no answer, a 429 or a 5xx, waiting
/// ``firstRetryDelay``, then twice as long each time (at most 30 s). A 4xx
/// other than 429 is the request's fault: trying again would not help.
final class HTTPActions: Sendable {
    static let maximumInFlight = 16
    static let firstRetryDelay = Duration.seconds(1)
    static let longestRetryDelay = Duration.seconds(30)

    /// How a request ended.
    struct Outcome: Sendable {
        var request: HTTPRequest
        /// The answer that ended it (a 2xx, 3xx or 4xx), or nil after failures.
        var answer: HTTPSender.Answer?
        /// What each failed attempt got, in order: `503 Service Unavailable`, `no answer within 10 s`.
        var failures: [String]
        var elapsed: Duration

        var succeeded: Bool { answer.map { (200..<400).contains($0.status) } ?? false }
    }

    private let sender: HTTPSender
    private let secrets: Secrets
    private let logger: Logger
    private let report: @Sendable (Outcome, _ action: Int64) async -> Void
    private let tasks = Mutex<(next: Int, running: [Int: Task<Void, Never>])>((0, [:]))

    init(sender: HTTPSender, secrets: Secrets, logger: Logger, report: @escaping @Sendable (Outcome, _ action: Int64) async -> Void) {
        self.sender = sender
        self.secrets = secrets
        self.logger = logger
        self.report = report
    }

    /// Starts sending `request`, logged as event `action`; false when
    /// ``maximumInFlight`` requests are already on their way.
    @discardableResult
    func send(_ request: HTTPRequest, action: Int64) -> Bool {
        tasks.withLock { tasks in
            guard tasks.running.count < Self.maximumInFlight else { return false }
            let key = tasks.next
            tasks.next += 1
            tasks.running[key] = Task { [self] in
                let outcome = await attempt(request)
                await report(outcome, action)
                _ = self.tasks.withLock { $0.running.removeValue(forKey: key) }
            }
            return true
        }
    }

    /// Cancels the requests on their way and waits until each has reported
    /// how it ended.
    func finish() async {
        let running = tasks.withLock { Array($0.running.values) }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    private func attempt(_ request: HTTPRequest) async -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = Outcome(request: request, failures: [], elapsed: .zero)
        guard let revealed = reveal(request) else {
            outcome.failures.append("a secret it uses has no value")
            return outcome
        }
        var delay = Self.firstRetryDelay
        for attempt in 0...request.retries {
            if attempt > 0 {
                do { try await Task.sleep(for: delay) } catch {
                    outcome.failures.append(HTTPSender.Failure.cancelled.description)
                    break
                }
                delay = min(delay * 2, Self.longestRetryDelay)
            }
            do {
                let answer = try await sender.send(revealed)
                if answer.status == 429 || answer.status >= 500 {
                    outcome.failures.append("\(answer.status) \(answer.reason)")
                    logger.warning("rule \(request.rule): \(request.summary) answered \(answer.status) \(answer.reason)")
                    continue
                }
                outcome.answer = answer
                break
            } catch {
                outcome.failures.append(error.description)
                logger.warning("rule \(request.rule): \(request.summary): \(error)")
                if error == .cancelled || !error.isWorthRetrying { break }
            }
        }
        outcome.elapsed = clock.now - start
        return outcome
    }

    private func reveal(_ request: HTTPRequest) -> HTTPSender.Request? {
        let value = { (name: String) in self.secrets.value(name) }
        guard let url = request.url.revealed(by: value) else { return nil }
        var headers: [(name: String, value: String)] = []
        for header in request.headers {
            guard let text = header.value.revealed(by: value) else { return nil }
            headers.append((header.name, text))
        }
        var body: String?
        if let template = request.body {
            guard let text = template.revealed(by: value) else { return nil }
            body = text
        }
        return HTTPSender.Request(
            method: request.method, url: url, headers: headers, body: body, timeout: request.timeout, cafile: request.cafile)
    }
}

extension HTTPSender.Failure {
    /// Whether another attempt could fare better: not for a request that
    /// cannot be sent as rendered.
    var isWorthRetrying: Bool {
        switch self {
        case .invalidURL, .invalidHeader, .certificateAuthority, .cancelled: false
        case .timedOut, .connection: true
        }
    }
}

extension HTTPActions.Outcome {
    /// The event's words: `POST http://…/*** answered 200 OK in 35 ms`, with
    /// secrets as `***`.
    var detail: String {
        let (seconds, attoseconds) = elapsed.components
        let took = "in \(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
        let attempts = failures.count + (answer == nil ? 0 : 1)
        guard let answer else {
            let last = failures.last ?? "a secret it uses has no value"
            let all = attempts > 1 ? " (\(attempts) attempts: \(failures.joined(separator: "; ")))" : ""
            return "http \(request.summary) failed: \(last)\(all) \(took)"
        }
        // What a server says of a refusal is often a page: its words, on one line.
        let words = answer.body.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let body = words.isEmpty || succeeded ? "" : ": \(words.prefix(120))"
        let earlier = failures.isEmpty ? "" : " after \(failures.count) failed (\(failures.joined(separator: "; ")))"
        return "http \(request.summary) answered \(answer.status) \(answer.reason)\(body) \(took)\(earlier)"
    }
}
