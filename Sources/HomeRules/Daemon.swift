import EventLog
import Foundation
import Logging
import MQTT
import MQTTBroker
import MQTTClient
import NIOCore
import Rules
import ServiceLifecycle
import UnixSignals

/// `homerules serve`: the broker (embedded or external), the rules engine
/// and the event log, as one service.
///
/// One task owns the engine; messages, clock ticks, reloads and reconnects
/// reach it through one ordered queue. The broker listens before the home is
/// loaded, and loads run on a thread of their own (`HomeLoads`): no file can
/// stop the broker from serving. Graceful shutdown drains the queue, saves
/// the engine's state, announces `homerules/status` offline, closes the bus
/// and flushes the event log.
public final class Daemon: Service {
    public let configuration: DaemonConfiguration
    private let logger: Logger
    private let bus: any MessageBus

    static let sighup = "SIGHUP"
    static let startReason = "start"

    enum Input {
        case message(MQTTMessage)
        case control(rule: String, request: RuleControl.Request)
        case tick
        case reload(String)
        case loaded(HomeLoads.Outcome)
        case busReconnected
        case maintenance
    }

    public init(configuration: DaemonConfiguration, logger: Logger = Logger(label: "homerules")) throws {
        self.configuration = configuration
        self.logger = logger
        switch configuration.broker {
        case .embedded(let brokerConfiguration):
            bus = EmbeddedBus(broker: MQTTBroker(configuration: brokerConfiguration, logger: logger))
        case .external(var clientConfiguration):
            clientConfiguration.cleanSession = true
            clientConfiguration.will = Will(
                topic: DaemonConfiguration.statusTopic, payload: ByteBuffer(string: "offline"), qos: .atLeastOnce, retain: true)
            bus = ExternalBus(client: try MQTTClient(configuration: clientConfiguration, logger: logger), logger: logger)
        }
    }

    /// The embedded broker, when there is one (for its bound addresses).
    public var embeddedBroker: MQTTBroker? { (bus as? EmbeddedBus)?.broker }

    public func run() async throws {
        let database = try EventDatabase.openForWriting(path: configuration.databasePath)
        let writer = try EventWriter(database: database, logger: logger)
        let writerTask = Task { await writer.run() }
        let uncleanStop = noteUncleanStop(of: writer)
        let http: HTTPActions
        do {
            http = try makeHTTPActions(writer: writer)
        } catch {
            writer.finish()
            await writerTask.value
            throw error
        }
        // Unbounded for the daemon's own few inputs; the gate bounds the messages.
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let now = Date()

        let logger = self.logger
        let gate = InputGate()
        do {
            try await bus.start(
                handler: { [bus] message in
                    // Output only, whoever published there: a rule on `#` must not feed on the daemon's events.
                    // Requests of `homerules rules` are the daemon's own input, bounded by the gate as messages are.
                    var control: (rule: String, request: RuleControl.Request)?
                    if DaemonTopics.contains(message.topic) {
                        control = RuleControl.request(in: message)
                        guard control != nil else { return }
                    }
                    switch gate.admit() {
                    case .queued:
                        break
                    case .queuedAndPause:
                        bus.pauseInput(true)
                    case .dropped(let report):
                        if let report { logger.error("input queue full: dropped \(report) message(s), the last on \(message.topic)") }
                        return
                    }
                    continuation.yield(control.map { .control(rule: $0.rule, request: $0.request) } ?? .message(message))
                },
                onReconnect: { continuation.yield(.busReconnected) })
        } catch {
            await bus.stop()
            writer.finish()
            await writerTask.value
            throw error
        }
        logger.info("loading devices from \(configuration.devicesDirectory.path) and rules from \(configuration.rulesDirectory.path)")
        let devices = configuration.devicesDirectory, rules = configuration.rulesDirectory, loadHome = configuration.loadHome
        let secrets = configuration.secrets
        let loads = HomeLoads(
            load: { loadHome(devices, rules).flatMap(secrets.check) },
            deliver: { continuation.yield(.loaded($0)) })
        loads.request(Self.startReason)

        let background = startBackgroundInputs(continuation)
        let ticker = Ticker(continuation: continuation)
        await writer.update(.purge(before: now.addingTimeInterval(-configuration.retention.timeInterval)))

        // On the embedded broker's loop, a sensor's message reaches the engine
        // and its command reaches the broker without crossing a thread.
        await serve(
            inputs, continuation: continuation,
            state: LoopState(
                snapshot: restoreSnapshot(from: database), loads: loads, lastPurge: now, startEvents: [uncleanStop].compactMap { $0 },
                overrides: RuleControl.overrides(in: database), http: http),
            ticker: ticker, writer: writer, gate: gate, isolation: bus.eventLoop.map(EventLoopIsolation.init))

        for task in background { task.cancel() }
        // Their answers are logged and published: before the bus and the log close.
        await http.finish()
        bus.send(MQTTMessage(topic: DaemonConfiguration.statusTopic, payload: "offline", qos: .atLeastOnce, retain: true))
        await bus.stop()
        writer.finish()
        await writerTask.value
        let written = writer.writtenEntries
        logger.info("stopped; \(written) log entries written")
    }

    /// What the daemon's loop owns besides the engine.
    private struct LoopState {
        /// The saved state of the engine, until the first load makes one.
        var snapshot: EngineSnapshot
        let loads: HomeLoads
        var lastPurge: Date
        /// Recorded once the engine is made, so that they are published too.
        var startEvents: [Event]
        /// The engine at work, once the first load has finished.
        var runner: RulesRunner?
        /// `rules enable` / `disable`, which win over the files.
        var overrides: [String: Bool]
        /// The home as the files define it, before the overrides.
        var filesHome: Home?
        let http: HTTPActions
    }

    /// The sender of the rules' `http` actions, which logs each answer.
    private func makeHTTPActions(writer: EventWriter) throws -> HTTPActions {
        let bus = self.bus
        return HTTPActions(sender: try HTTPSender(), secrets: configuration.secrets, logger: logger) { outcome, action in
            await RulesRunner.record(
                Event(time: Date(), kind: outcome.succeeded ? .action : .error, rule: outcome.request.rule, detail: outcome.detail, cause: action),
                writer: writer, bus: bus)
        }
    }

    /// The daemon's loop: every input in order, until graceful shutdown;
    /// then the engine's state is saved.
    private func serve(
        _ inputs: AsyncStream<Input>, continuation: AsyncStream<Input>.Continuation, state: consuming LoopState,
        ticker: Ticker, writer: EventWriter, gate: InputGate, isolation: isolated (any Actor)?
    ) async {
        var state = state
        var discoveryNotice = DiscoveryNotice()
        await withGracefulShutdownHandler {
            for await input in inputs {
                let time = EngineTime.now()
                let now = time.wall
                switch input {
                case .message(let message):
                    if !discoveryNotice.consumes(message, home: state.runner?.home, log: { logger.notice("\($0)") }) {
                        await state.runner?.handle(message, at: time)
                    }
                    if gate.left() { bus.pauseInput(false) }
                case .tick:
                    ticker.fired()
                    await state.runner?.tick(at: time)
                case .reload(let reason):
                    await reloadSecurityIfAsked(reason, runner: state.runner, at: now)
                    state.loads.request(reason)
                case .control(let rule, let request):
                    await control(rule, request, state: &state, writer: writer, at: time)
                    if gate.left() { bus.pauseInput(false) }
                case .loaded(var outcome):
                    state.loads.finished()
                    if case .success(let home) = outcome.result {
                        state.filesHome = home
                        outcome.result = .success(home.overriding(enabled: state.overrides))
                    }
                    if let runner = state.runner {
                        await adopt(outcome, into: runner, at: time)
                    } else {
                        let runner = await begin(with: outcome, snapshot: state.snapshot, writer: writer, http: state.http, at: time)
                        for event in state.startEvents { await runner.record(event) }
                        state.runner = runner
                    }
                case .busReconnected:
                    state.runner?.busReconnected()
                case .maintenance:
                    guard let runner = state.runner else { break }
                    if let dropped = gate.takeUnrecordedDrops() {
                        await runner.record(Event(time: now, kind: .error, detail: "input queue full: \(dropped) message(s) dropped"))
                    }
                    await runner.saveSnapshot(at: time)
                    if now.timeIntervalSince(state.lastPurge) >= 3600 {
                        await writer.update(.purge(before: now.addingTimeInterval(-configuration.retention.timeInterval)))
                        state.lastPurge = now
                    }
                }
                ticker.schedule(at: state.runner?.engine.nextDeadline(from: time))
            }
        } onGracefulShutdown: {
            SystemdNotification.send("STOPPING=1")
            continuation.finish()
        }
        ticker.cancel()
        await state.runner?.saveSnapshot(at: .now())
        // Stopped before the first load was done: what happened at the start is still logged.
        if state.runner == nil {
            for event in state.startEvents { await writer.record(event) }
        }
    }

    // MARK: Loading

    /// The first load: the engine starts with its home (or with none, when
    /// the files are broken or their topics cannot be subscribed to) and the
    /// state saved by the last run, and the daemon announces itself.
    private nonisolated(nonsending) func begin(
        with outcome: HomeLoads.Outcome, snapshot: EngineSnapshot, writer: EventWriter, http: HTTPActions, at now: EngineTime
    ) async -> RulesRunner {
        let accepted = await subscribe(to: outcome)
        let runner = RulesRunner(
            home: (try? accepted.get()) ?? .empty, snapshot: snapshot, now: now, timeZone: configuration.timeZone,
            policy: configuration.restartPolicy, location: configuration.location, writer: writer, bus: bus, http: http, logger: logger)
        await record(accepted, reason: outcome.reason, runner: runner)
        await runner.saveSnapshot(at: now)
        bus.send(MQTTMessage(topic: DaemonConfiguration.statusTopic, payload: "online", qos: .atLeastOnce, retain: true))
        logger.info("serving \(runner.home.summary); logging to \(configuration.databasePath)")
        SystemdNotification.send("READY=1\nSTATUS=serving \(runner.home.summary)")
        return runner
    }

    /// A reload: the new home is adopted only once the bus is subscribed to
    /// its topics, so that a failure at any step leaves the rules in force.
    private nonisolated(nonsending) func adopt(_ outcome: HomeLoads.Outcome, into runner: RulesRunner, at now: EngineTime) async {
        let accepted = await subscribe(to: outcome)
        if case .success(let home) = accepted { runner.reload(with: home, at: now) }
        await record(accepted, reason: outcome.reason, runner: runner)
    }

    /// A request of `homerules rules`: run a rule now, or enable or disable
    /// it until told otherwise (saved, stated on its retained topic, and put
    /// in force as a reload is).
    private nonisolated(nonsending) func control(
        _ rule: String, _ request: RuleControl.Request, state: inout LoopState, writer: EventWriter, at time: EngineTime
    ) async {
        guard let runner = state.runner else { return }
        guard let filesHome = state.filesHome, let defined = filesHome.rule(id: rule) else {
            await runner.record(Event(time: time.wall, kind: .error, rule: rule, detail: "rules \(request.rawValue): no rule '\(rule)' is loaded"))
            return
        }
        switch request {
        case .run:
            await runner.runByHand(rule, by: RuleControl.runRequester, at: time)
        case .enable, .disable:
            let enabled = request == .enable
            state.overrides[rule] = enabled == defined.enabled ? nil : enabled
            await writer.update(.state(key: RuleControl.storageKey, value: RuleControl.encoded(state.overrides), at: time.wall))
            bus.send(MQTTMessage(topic: RuleControl.enabledTopic(rule), payload: "\(enabled)", qos: .atLeastOnce, retain: true))
            let outcome = HomeLoads.Outcome(
                reason: "rules \(request.rawValue) \(rule)", result: .success(filesHome.overriding(enabled: state.overrides)))
            await adopt(outcome, into: runner, at: time)
        }
    }

    /// Why a loaded home was not put in force.
    private enum Refusal: Error {
        case files(DiagnosticList)
        case subscription(any Error)
    }

    /// Subscribes the bus to the topics of a loaded home: the home, ready to
    /// be put in force, or why it cannot be. A subscription that fails
    /// changes nothing (both buses subscribe all or nothing).
    private nonisolated(nonsending) func subscribe(to outcome: HomeLoads.Outcome) async -> Result<Home, Refusal> {
        switch outcome.result {
        case .success(let home):
            do {
                // An external broker's ACL may refuse homeassistant/, and one refused filter refuses them all: the notice is the embedded broker's only.
                try await bus.subscribe(to: home.topics.union([RuleControl.requestFilter]).union(embeddedBroker == nil ? [] : DiscoveryNotice.filters))
                return .success(home)
            } catch {
                return .failure(.subscription(error))
            }
        case .failure(let errors):
            return .failure(.files(errors))
        }
    }

    /// On SIGHUP, the embedded broker rereads its password, ACL and
    /// certificate files (connected clients stay; a broken file is refused).
    private nonisolated(nonsending) func reloadSecurityIfAsked(_ reason: String, runner: RulesRunner?, at now: Date) async {
        guard reason == Self.sighup, let broker = embeddedBroker else { return }
        do {
            try await broker.reloadSecurity()
        } catch {
            logger.error("security files not reloaded, the ones in force stay: \(error)")
            await runner?.record(Event(time: now, kind: .error, detail: "security files not reloaded: \(error)"))
        }
    }

    /// Logs the outcome of a load: a summary, or every error (at
    /// `file:line:column` for the files) with the rules in force kept.
    private nonisolated(nonsending) func record(_ accepted: Result<Home, Refusal>, reason: String, runner: RulesRunner) async {
        let now = Date()
        let refusal: Refusal
        switch accepted {
        case .success(let home):
            logger.info("loaded \(home.summary) (\(reason))")
            await runner.record(Event(time: now, kind: .reload, detail: "\(reason): \(home.summary)"))
            if configuration.location == nil, let rule = home.rules.first(where: \.followsTheSun) {
                let detail = "rule \(rule.id) follows the sun, which needs 'latitude' and 'longitude' in the settings file; until then it never fires"
                logger.warning("\(detail)")
                await runner.record(Event(time: now, kind: .error, rule: rule.id, detail: detail))
            }
            return
        case .failure(let failure):
            refusal = failure
        }
        let kept = reason == Self.startReason ? "running with no rules until the files are fixed" : "keeping the rules in force"
        let (count, detail): (Int, String)
        switch refusal {
        case .files(let errors):
            for diagnostic in errors.diagnostics { logger.error("\(diagnostic.locatedMessage)") }
            (count, detail) = (errors.diagnostics.count, errors.locatedMessages)
        case .subscription(let error):
            (count, detail) = (1, "could not subscribe to the topics of the devices and rules: \(error)")
            logger.error("\(detail)")
        }
        let summary = "\(reason): refused, \(count) error(s); \(kept)"
        logger.error("\(summary)")
        let id = await runner.record(Event(time: now, kind: .reload, detail: summary))
        await runner.record(Event(time: now, kind: .error, detail: detail, cause: id))
    }

    /// When the last run did not stop cleanly, says so in the log and
    /// returns the `error` event that records it.
    private func noteUncleanStop(of writer: EventWriter) -> Event? {
        guard case .unclean(let lostIDs) = writer.previousRun else { return nil }
        var detail = "the last run did not stop cleanly (killed, crashed or a power cut): "
            + "the log entries it had queued, at most \(writer.maximumLostOnKill), were lost"
        if let lostIDs {
            detail += "; events it numbered from #\(lostIDs.lowerBound) on were never written, and `why` calls them lost"
        }
        logger.warning("\(detail)")
        return Event(time: Date(), kind: .error, detail: detail)
    }

    private func restoreSnapshot(from database: EventDatabase) -> EngineSnapshot {
        do {
            guard let data = try database.stateValue(forKey: RulesRunner.snapshotKey) else { return EngineSnapshot() }
            return try JSONDecoder().decode(EngineSnapshot.self, from: data)
        } catch {
            logger.warning("starting without the saved rules state: \(error)")
            return EngineSnapshot()
        }
    }

    // MARK: Background inputs

    /// SIGHUP, the file watcher and the maintenance clock, as inputs.
    private func startBackgroundInputs(_ continuation: AsyncStream<Input>.Continuation) -> [Task<Void, Never>] {
        var tasks: [Task<Void, Never>] = []
        tasks.append(Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                continuation.yield(.reload(Self.sighup))
            }
        })
        if let interval = configuration.reloadCheckInterval {
            let directories = [configuration.devicesDirectory, configuration.rulesDirectory]
            tasks.append(Task {
                var watcher = DirectoryWatcher(directories: directories)
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if watcher.poll() { continuation.yield(.reload("files changed")) }
                }
            })
        }
        let snapshotInterval = configuration.snapshotInterval
        tasks.append(Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: snapshotInterval)
                continuation.yield(.maintenance)
            }
        })
        return tasks
    }
}
