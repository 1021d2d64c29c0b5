import MQTTTopics

/// A trigger of a rule, by position.
struct TriggerRef: Sendable, Hashable {
    var rule: Int
    var trigger: Int
}

/// What a topic means to the engine.
enum TopicInterest: Sendable, Hashable {
    case presence(device: Int)
    case sensor(device: Int, sensor: Int)
    case actuatorState(device: Int, actuator: Int)
    case mqttTrigger(TriggerRef)
}

/// Lookups built once per home, so that an input only reaches the rules
/// that reference what it changes: the cost of an event does not grow with
/// unrelated rules.
struct EngineIndex: Sendable {
    private(set) var topics = TopicTrie<TopicInterest>()
    private(set) var deviceByID: [String: Int] = [:]
    /// `[device][sensor]`: the triggers watching that sensor.
    private(set) var sensorTriggers: [[[TriggerRef]]]
    /// `[device][actuator]`: the triggers watching that actuator.
    private(set) var actuatorTriggers: [[[TriggerRef]]]
    /// `[device]`: the presence triggers of that device.
    private(set) var presenceTriggers: [[TriggerRef]]

    init(home: Home) {
        sensorTriggers = home.devices.map { Array(repeating: [], count: $0.sensors.count) }
        actuatorTriggers = home.devices.map { Array(repeating: [], count: $0.actuators.count) }
        presenceTriggers = Array(repeating: [], count: home.devices.count)
        for (index, device) in home.devices.enumerated() {
            deviceByID[device.id] = index
            if let topic = device.presence?.topic.flatMap({ try? TopicFilter($0) }) {
                topics.insert(.presence(device: index), for: topic)
            }
            for (sensor, definition) in device.sensors.enumerated() {
                if let topic = try? TopicFilter(definition.topic) { topics.insert(.sensor(device: index, sensor: sensor), for: topic) }
            }
            // A number or choice actuator's state topic is its echo's, a sensor's.
            for (actuator, definition) in device.actuators.enumerated() where definition.isOnOff {
                if let topic = definition.stateTopic.flatMap({ try? TopicFilter($0) }) {
                    topics.insert(.actuatorState(device: index, actuator: actuator), for: topic)
                }
            }
        }
        for (ruleIndex, rule) in home.rules.enumerated() {
            guard rule.enabled else { continue }
            for (triggerIndex, trigger) in rule.triggers.enumerated() {
                let ref = TriggerRef(rule: ruleIndex, trigger: triggerIndex)
                switch trigger.kind {
                case .threshold(let name, _), .sensorChange(let name, _):
                    if let (device, sensor) = sensor(name, in: home) { sensorTriggers[device][sensor].append(ref) }
                case .actuatorChange(let name, _):
                    if let (device, actuator) = actuator(name, in: home) { actuatorTriggers[device][actuator].append(ref) }
                case .presence(let device, _):
                    if let device = deviceByID[device] { presenceTriggers[device].append(ref) }
                case .mqtt(let filter, _):
                    topics.insert(.mqttTrigger(ref), for: filter)
                case .schedule:
                    break
                }
            }
        }
    }

    func sensor(_ name: QualifiedName, in home: Home) -> (device: Int, sensor: Int)? {
        guard let device = deviceByID[name.device],
              let sensor = home.devices[device].sensors.firstIndex(where: { $0.name == name.member })
        else { return nil }
        return (device, sensor)
    }

    func actuator(_ name: QualifiedName, in home: Home) -> (device: Int, actuator: Int)? {
        guard let device = deviceByID[name.device],
              let actuator = home.devices[device].actuators.firstIndex(where: { $0.name == name.member })
        else { return nil }
        return (device, actuator)
    }
}
