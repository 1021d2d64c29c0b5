import EventLog
import Foundation
import Logging
import MQTT
import NIOCore
import Rules

/// The rules engine at work: feeds it messages and ticks, logs what it
/// decides with the causes linked, and publishes its actions.
///
/// Owned by the daemon's loop task: one owner, no locks.
final class RulesRunner {
    private(set) var engine: Engine
    private(set) var home: Home
    private var directory: TopicDirectory
    private let writer: EventWriter
    private let bus: any MessageBus
    private let http: HTTPActions
    private let logger: Logger
    /// Whether the engine changed since its state was last saved.
    private var unsaved = false

    static let snapshotKey = EngineSnapshot.storageKey

    init(
        home: Home, snapshot: EngineSnapshot, now: EngineTime, timeZone: TimeZone, policy: RestartPolicy, location: GeoLocation?,
        writer: EventWriter, bus: any MessageBus, http: HTTPActions, logger: Logger
    ) {
        self.home = home
        self.engine = Engine(home: home, restoring: snapshot, now: now, timeZone: timeZone, policy: policy, location: location)
        // Saved at once: `homerules devices` reads which presence is provisional from it.
        unsaved = true
        self.directory = TopicDirectory(home: home)
        self.writer = writer
        self.bus = bus
        self.http = http
        self.logger = logger
    }

    /// A message from the bus.
    nonisolated(nonsending) func handle(_ message: MQTTMessage, at time: EngineTime) async {
        let now = time.wall
        let id = writer.reserveID()
        let payload = Array(message.payload.readableBytesView)
        let outputs = engine.handle(
            .message(IncomingMessage(topic: message.topic, payload: payload, retained: message.retain)),
            id: InputID(id), at: time)
        act(on: outputs)
        let owner = directory.owner(of: message.topic)
        let ignored = outputs.lazy.compactMap { output -> String? in
            if case .messageIgnored(let ignored) = output.event { ignored.reason } else { nil }
        }.first
        await record(Event(
            id: id, time: now, kind: .message, device: owner?.device, entity: owner?.entity,
            topic: message.topic, payload: message.payloadString, detail: ignored))
        if let device = owner?.device { await writer.update(.seen(device: device, at: now)) }
        await apply(outputs, at: now)
    }

    /// The clock reached `engine.nextDeadline` (or later).
    nonisolated(nonsending) func tick(at now: EngineTime) async {
        let outputs = engine.handle(.tick, id: 0, at: now)
        act(on: outputs)
        await apply(outputs, at: now.wall)
    }

    /// `homerules rules run`: the rule's actions now, logged as run by hand.
    nonisolated(nonsending) func runByHand(_ rule: String, by who: String, at now: EngineTime) async {
        let outputs = engine.handle(.runByHand(rule: rule, by: who), id: 0, at: now)
        act(on: outputs)
        await apply(outputs, at: now.wall)
    }

    /// Publishes the engine's commands at once; logging them comes after, off
    /// the path from a sensor's message to the actuator.
    private func act(on outputs: [Output]) {
        for output in outputs {
            guard case .publish(let publication) = output.event else { continue }
            bus.send(MQTTMessage(
                topic: publication.topic, payload: ByteBuffer(bytes: publication.payload),
                qos: QoS(rawValue: UInt8(clamping: publication.qos)) ?? .atMostOnce, retain: publication.retain))
        }
    }

    /// After the bus came back from a lost connection.
    func busReconnected() {
        engine.trustRetainedMessagesAgain()
    }

    /// Adopts a reloaded home, keeping what the engine knows.
    func reload(with newHome: Home, at now: EngineTime) {
        home = newHome
        engine = engine.reloaded(with: newHome, now: now)
        directory = TopicDirectory(home: newHome)
        unsaved = true
    }

    /// Saves the engine's state for a restart, when it changed.
    nonisolated(nonsending) func saveSnapshot(at now: EngineTime) async {
        guard unsaved else { return }
        do {
            let data = try JSONEncoder().encode(engine.snapshot(at: now))
            await writer.update(.state(key: Self.snapshotKey, value: data, at: now.wall))
            unsaved = false
        } catch {
            logger.error("could not save the rules engine's state: \(error)")
        }
    }

    /// Logs an event and publishes it on `homerules/events/<kind>`.
    @discardableResult
    nonisolated(nonsending) func record(_ event: Event) async -> Int64 {
        await Self.record(event, writer: writer, bus: bus)
    }

    /// Logs an event and publishes it, for those beside the loop too (the
    /// answers to `http` actions).
    @discardableResult
    static func record(_ event: Event, writer: EventWriter, bus: any MessageBus) async -> Int64 {
        let id = await writer.record(event)
        var published = event.truncatingPayload(to: writer.maximumPayloadLength)
        published.id = id
        bus.send(MQTTMessage(topic: published.mqttTopic, payload: ByteBuffer(bytes: published.json())))
        return id
    }

    private nonisolated(nonsending) func apply(_ outputs: [Output], at now: Date) async {
        guard !outputs.isEmpty else { return }
        unsaved = true
        // The rule_fired event of each rule in this step, for its actions to cite.
        var firings: [String: Int64] = [:]
        for output in outputs {
            let cause: Int64? = output.origin == 0 ? nil : Int64(output.origin)
            switch output.event {
            case .presenceChanged(let change):
                await record(Event(
                    time: now, kind: .presence, device: change.device, payload: change.to.rawValue,
                    detail: change.reason, cause: cause))
                await writer.update(.presence(device: change.device, state: change.to.rawValue, since: change.since))
                logger.info("\(change.device) is \(change.to) (\(change.reason))")
            case .sensorUpdated(let update):
                await writer.update(.entity(EntityStateRecord(
                    device: update.device, entity: update.sensor, role: .sensor, value: update.value.description, updatedAt: update.at)))
            case .actuatorUpdated(let update):
                await writer.update(.entity(EntityStateRecord(
                    device: update.device, entity: update.actuator, role: .actuator, value: update.state.rawValue, updatedAt: update.at)))
            case .ruleTrace(let trace):
                switch trace.decision {
                case .fired, .otherwise:
                    let kind: EventKind = trace.decision == .fired ? .ruleFired : .ruleOtherwise
                    firings[trace.rule] = await record(Event(time: now, kind: kind, rule: trace.rule, detail: trace.reason, cause: cause))
                    logger.info("rule \(trace.rule) \(kind == .ruleFired ? "fired" : "ran otherwise"): \(trace.reason)")
                case .waiting, .queued, .skipped:
                    await record(Event(time: now, kind: .ruleSkipped, rule: trace.rule, detail: trace.reason, cause: cause))
                }
            case .publish(let publication):
                // Sent already by `act(on:)`.
                let what = publication.actuator.map { "set \($0) \(publication.text)" } ?? "publish"
                await record(Event(
                    time: now, kind: .action, device: publication.actuator?.device, entity: publication.actuator?.member,
                    topic: publication.topic, payload: publication.text, rule: publication.rule, detail: what,
                    cause: firings[publication.rule] ?? cause))
            case .http(let request):
                let id = await record(Event(
                    time: now, kind: .action, payload: request.body?.description, rule: request.rule, detail: "http \(request.summary)",
                    cause: firings[request.rule] ?? cause))
                if !http.send(request, action: id) {
                    await record(Event(
                        time: now, kind: .error, rule: request.rule,
                        detail: "http \(request.summary) not sent: \(HTTPActions.maximumInFlight) requests are already on their way",
                        cause: id))
                }
            case .messageIgnored:
                break // Recorded on the message's own event.
            case .problem(let problem):
                await record(Event(time: now, kind: .error, rule: problem.rule, detail: problem.message, cause: cause))
                logger.error("\(problem.rule.map { "rule \($0): " } ?? "")\(problem.message)")
            }
        }
    }
}
