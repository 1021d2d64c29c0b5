import Foundation
@testable import Rules

/// Monday 3 March 2025, 08:00:00 UTC: the start of every engine test.
let testStart = Date(timeIntervalSince1970: 1_740_988_800)
let utc = TimeZone(identifier: "UTC")!

/// Drives an engine with a test clock, the way the daemon would: messages
/// at the current time, ticks at every deadline while time advances. The
/// two clocks move together unless a test jumps the wall clock.
struct Harness {
    var engine: Engine
    var clock = EngineTime(testStart)
    private var nextInput: InputID = 1

    /// The wall clock.
    var now: Date {
        get { clock.wall }
        set { clock = clock.advanced(by: newValue.timeIntervalSince(clock.wall)) }
    }

    init(
        devices: [String] = [livingroomNode], rules: String, restoring snapshot: EngineSnapshot? = nil,
        at start: EngineTime = EngineTime(testStart), policy: RestartPolicy = RestartPolicy(), location: GeoLocation? = nil
    ) throws {
        var files: [String: String] = [:]
        for (index, text) in devices.enumerated() { files["device\(index).yaml"] = text }
        let home = try validHome(devices: files, rules: ["rules.yaml": rules])
        clock = start
        engine = Engine(
            home: home, restoring: snapshot ?? EngineSnapshot(), now: start, timeZone: utc, policy: policy, location: location)
    }

    /// Sends a message now.
    @discardableResult
    mutating func send(_ topic: String, _ text: String, retained: Bool = false) -> [Output] {
        let id = nextInput
        nextInput += 1
        return engine.handle(.message(IncomingMessage(topic: topic, text: text, retained: retained)), id: id, at: clock)
    }

    /// Moves both clocks on, ticking at each deadline on the way.
    @discardableResult
    mutating func advance(_ seconds: Double) -> [Output] {
        let target = clock.advanced(by: seconds)
        var outputs: [Output] = []
        while let deadline = engine.nextDeadline(from: clock), deadline <= target.monotonic {
            if deadline > clock.monotonic { clock = EngineTime(wall: clock.wall(at: deadline), monotonic: deadline) }
            outputs += tick()
        }
        clock = target
        return outputs
    }

    /// Sets the wall clock `seconds` on (back when negative), as NTP would,
    /// leaving the monotonic clock where it is, and ticks as the daemon does
    /// when it notices.
    @discardableResult
    mutating func jumpWall(by seconds: Double) -> [Output] {
        clock.wall = clock.wall.addingTimeInterval(seconds)
        return tick()
    }

    /// One tick now.
    mutating func tick() -> [Output] {
        let id = nextInput
        nextInput += 1
        return engine.handle(.tick, id: id, at: clock)
    }

    /// Sets the livingroom temperature.
    @discardableResult
    mutating func temperature(_ value: Double) -> [Output] {
        send("home/livingroom-node/temperature", Formatting.number(value))
    }

    /// Brings the livingroom node online and gives it a first temperature.
    mutating func startNode(temperature value: Double = 20) {
        send("home/livingroom-node/status", "online", retained: true)
        temperature(value)
    }
}

extension Array where Element == Output {
    var publications: [Publication] {
        compactMap { if case .publish(let publication) = $0.event { publication } else { nil } }
    }

    /// `topic payload` for each publication, easy to compare.
    var published: [String] { publications.map { "\($0.topic) \($0.text)" } }

    var traces: [RuleTrace] {
        compactMap { if case .ruleTrace(let trace) = $0.event { trace } else { nil } }
    }

    func traces(_ rule: String) -> [RuleTrace] { traces.filter { $0.rule == rule } }

    func decisions(_ rule: String) -> [RuleTrace.Decision] { traces(rule).map(\.decision) }

    func reasons(_ rule: String) -> [String] { traces(rule).map(\.reason) }

    var problems: [Problem] {
        compactMap { if case .problem(let problem) = $0.event { problem } else { nil } }
    }

    var presenceChanges: [PresenceChange] {
        compactMap { if case .presenceChanged(let change) = $0.event { change } else { nil } }
    }

    var ignored: [IgnoredMessage] {
        compactMap { if case .messageIgnored(let ignored) = $0.event { ignored } else { nil } }
    }

    var actuatorUpdates: [ActuatorUpdate] {
        compactMap { if case .actuatorUpdated(let update) = $0.event { update } else { nil } }
    }

    var sensorUpdates: [SensorUpdate] {
        compactMap { if case .sensorUpdated(let update) = $0.event { update } else { nil } }
    }
}

/// The LED rule of ARCHITECTURE.md with a hysteresis band.
let hotRoomRule = """
    - id: hot-room-led
      when: { sensor: livingroom-node.temperature, above: 28, hysteresis: 1 }
      then:
        - set: livingroom-node.led
          to: on
      otherwise:
        - set: livingroom-node.led
          to: off
    """
