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
/// reach it through one ordered queue. Graceful shutdown drains the queue,
/// saves the engine's state, announces `homerules/status` offline, closes
/// the bus and flushes the event log.
public final class Daemon: Service {
    public let configuration: DaemonConfiguration
    private let logger: Logger
    private let bus: any MessageBus

    static let sighup = "SIGHUP"

    /// Inputs waiting beyond this many are dropped and logged: the bus must
    /// never block on the daemon.
    static let inputCapacity = 100_000

    enum Input {
        case message(MQTTMessage)
        case tick
        case reload(String)
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
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .bufferingOldest(Self.inputCapacity))
        let now = Date()

        let (home, loadErrors) = loadHome()
        let runner = RulesRunner(
            home: home ?? .empty, snapshot: restoreSnapshot(from: database), now: now, timeZone: configuration.timeZone,
            writer: writer, bus: bus, logger: logger)
        await recordLoad(home: home, errors: loadErrors, reason: "start", runner: runner)

        let logger = self.logger
        let gate = InputGate()
        do {
            try await bus.start(
                handler: { [bus] message in
                    // Output only, whoever published there: a rule on `#` must not feed on the daemon's events.
                    guard !DaemonTopics.contains(message.topic) else { return }
                    if gate.entered() { bus.pauseInput(true) }
                    if case .dropped = continuation.yield(.message(message)), let count = gate.dropped() {
                        logger.error("input queue full: dropped \(count) message(s), the last on \(message.topic)")
                    }
                },
                onReconnect: { continuation.yield(.busReconnected) })
            try await bus.subscribe(to: runner.home.topics)
        } catch {
            await bus.stop()
            writer.finish()
            await writerTask.value
            throw error
        }
        bus.send(MQTTMessage(topic: DaemonConfiguration.statusTopic, payload: "online", qos: .atLeastOnce, retain: true))
        logger.info("serving \(runner.home.summary); logging to \(configuration.databasePath)")

        let background = startBackgroundInputs(continuation)
        let ticker = Ticker(continuation: continuation)
        await writer.update(.purge(before: now.addingTimeInterval(-configuration.retention.timeInterval)))

        // On the embedded broker's loop, a sensor's message reaches the engine
        // and its command reaches the broker without crossing a thread.
        await serve(inputs, continuation: continuation, runner: runner, ticker: ticker, writer: writer, gate: gate,
                    lastPurge: now, isolation: bus.eventLoop.map(EventLoopIsolation.init))

        for task in background { task.cancel() }
        bus.send(MQTTMessage(topic: DaemonConfiguration.statusTopic, payload: "offline", qos: .atLeastOnce, retain: true))
        await bus.stop()
        writer.finish()
        await writerTask.value
        let written = writer.writtenEntries
        logger.info("stopped; \(written) log entries written")
    }

    /// The daemon's loop: every input in order, until graceful shutdown;
    /// then the engine's state is saved.
    private func serve(
        _ inputs: AsyncStream<Input>, continuation: AsyncStream<Input>.Continuation, runner: RulesRunner,
        ticker: Ticker, writer: EventWriter, gate: InputGate, lastPurge: Date, isolation: isolated (any Actor)?
    ) async {
        var lastPurge = lastPurge
        await withGracefulShutdownHandler {
            for await input in inputs {
                let now = Date()
                switch input {
                case .message(let message):
                    await runner.handle(message, at: now)
                    if gate.left() { bus.pauseInput(false) }
                case .tick:
                    ticker.fired()
                    await runner.tick(at: now)
                case .reload(let reason):
                    await reload(runner, reason: reason, at: now)
                case .busReconnected:
                    runner.busReconnected()
                case .maintenance:
                    if let dropped = gate.takeUnrecordedDrops() {
                        await runner.record(Event(time: now, kind: .error, detail: "input queue full: \(dropped) message(s) dropped"))
                    }
                    await runner.saveSnapshot(at: now)
                    if now.timeIntervalSince(lastPurge) >= 3600 {
                        await writer.update(.purge(before: now.addingTimeInterval(-configuration.retention.timeInterval)))
                        lastPurge = now
                    }
                }
                ticker.schedule(at: runner.engine.nextDeadline)
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
        ticker.cancel()
        await runner.saveSnapshot(at: Date())
    }

    // MARK: Loading

    private func loadHome() -> (Home?, DiagnosticList?) {
        switch HomeLoader.load(devicesDirectory: configuration.devicesDirectory, rulesDirectory: configuration.rulesDirectory) {
        case .success(let home): (home, nil)
        case .failure(let errors): (nil, errors)
        }
    }

    private nonisolated(nonsending) func reload(_ runner: RulesRunner, reason: String, at now: Date) async {
        if reason == Self.sighup, let broker = embeddedBroker {
            // Password, ACL and certificate files: connected clients stay; a broken file is refused.
            do {
                try await broker.reloadSecurity()
            } catch {
                logger.error("security files not reloaded, the ones in force stay: \(error)")
                await runner.record(Event(time: now, kind: .error, detail: "security files not reloaded: \(error)"))
            }
        }
        let (home, errors) = loadHome()
        if let home {
            runner.reload(with: home, at: now)
            do {
                try await bus.subscribe(to: home.topics)
            } catch {
                logger.error("could not subscribe to the reloaded topics: \(error)")
            }
        }
        await recordLoad(home: home, errors: errors, reason: reason, runner: runner)
    }

    /// Logs the outcome of loading the files: a summary, or every error at
    /// `file:line:column` with the rules in force kept.
    private nonisolated(nonsending) func recordLoad(home: Home?, errors: DiagnosticList?, reason: String, runner: RulesRunner) async {
        let now = Date()
        if let home {
            logger.info("loaded \(home.summary) (\(reason))")
            await runner.record(Event(time: now, kind: .reload, detail: "\(reason): \(home.summary)"))
            return
        }
        guard let errors else { return }
        for diagnostic in errors.diagnostics { logger.error("\(diagnostic)") }
        let kept = reason == "start" ? "running with no rules until the files are fixed" : "keeping the rules in force"
        let summary = "\(reason): refused, \(errors.diagnostics.count) error(s); \(kept)"
        logger.error("\(summary)")
        let id = await runner.record(Event(time: now, kind: .reload, detail: summary))
        await runner.record(Event(time: now, kind: .error, detail: errors.description, cause: id))
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
