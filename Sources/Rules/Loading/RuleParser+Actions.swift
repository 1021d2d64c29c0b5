import MQTTTopics
import Yams

/// Reading `then` and `otherwise`.
extension RuleParser {
    private static let actionKeys = ["set", "to", "toggle", "publish", "delay"]
    private static let publishKeys = ["topic", "payload", "qos", "retain"]

    /// An action, or nil after recording why it is invalid.
    mutating func action(_ node: Node) -> Action? {
        guard let fields = reader.mapping(node, as: "an action", allowed: Self.actionKeys) else { return nil }
        let verbs = ["set", "toggle", "publish", "delay"].filter(fields.has)
        guard let verb = verbs.first else {
            reader.error("an action needs one of 'set', 'toggle', 'publish' or 'delay'", at: node)
            return nil
        }
        if verbs.count > 1 {
            reader.error("one action per list item: '\(verb)' and '\(verbs[1])' need separate items", at: fields.keyNode(verbs[1])!)
            return nil
        }
        if verb != "set", let to = fields.keyNode("to") {
            reader.error("'to' belongs to 'set'", at: to)
            return nil
        }
        let value = fields[verb]!
        switch verb {
        case "set":
            let actuator = self.actuator(value, for: "set")
            guard let toNode = reader.required(fields, "to", in: "a 'set' action"), let actuator else { return nil }
            return setting(toNode, for: actuator).map { .set(actuator.name, to: $0) }
        case "toggle":
            return onOffActuator(value, for: "toggle").map { .toggle($0.name) }
        case "delay":
            return reader.duration(value, for: "delay").map { .delay($0) }
        default:
            return publish(value)
        }
    }

    private mutating func publish(_ node: Node) -> Action? {
        guard let fields = reader.mapping(node, as: "'publish'", allowed: Self.publishKeys) else { return nil }
        guard let topicNode = reader.required(fields, "topic", in: "'publish'"),
              let topic = reader.template(topicNode, for: "topic")
        else { return nil }
        if topic.variables.isEmpty, let problem = TopicFilter.problem(name: topic.description) {
            reader.error("invalid topic '\(topic.description)' for 'topic': \(problem)", at: topicNode)
            return nil
        }
        let payload = fields["payload"].map { node in
            YAMLReader.isNull(node) ? Template(literal: "") : reader.template(node, for: "payload")
        } ?? Template(literal: "")
        let qos = fields["qos"].flatMap { reader.integer($0, for: "qos", in: 0...2) } ?? 0
        let retain = fields["retain"].flatMap { reader.bool($0, for: "retain") } ?? false
        let topicIsValid = checkVariables(of: topic, at: topicNode, key: "topic")
        guard let payload, checkVariables(of: payload, at: fields["payload"] ?? node, key: "payload"), topicIsValid
        else { return nil }
        return .publish(PublishAction(topic: topic, payload: payload, qos: qos, retain: retain))
    }

    private mutating func checkVariables(of template: Template, at node: Node, key: String) -> Bool {
        let scope = TemplateScope(devices: devices, triggerDevices: triggerDevices, triggersHadErrors: triggersHadErrors)
        var valid = true
        for path in template.variables {
            if let problem = scope.problem(with: path) {
                reader.error("\(problem) (in '\(key)')", at: node)
                valid = false
            }
        }
        return valid
    }
}
