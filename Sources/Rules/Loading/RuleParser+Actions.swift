import MQTTTopics
import Yams

/// Reading `then` and `otherwise`.
extension RuleParser {
    private static let actionKeys = ["set", "to", "toggle", "publish", "http", "delay"]
    private static let publishKeys = ["topic", "payload", "qos", "retain"]
    private static let httpKeys = ["url", "method", "headers", "body", "timeout", "retries", "cafile"]

    /// An action, or nil after recording why it is invalid.
    mutating func action(_ node: Node) -> Action? {
        guard let fields = reader.mapping(node, as: "an action", allowed: Self.actionKeys) else { return nil }
        let verbs = ["set", "toggle", "publish", "http", "delay"].filter(fields.has)
        guard let verb = verbs.first else {
            reader.error("an action needs one of 'set', 'toggle', 'publish', 'http' or 'delay'", at: node)
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
        case "http":
            return http(value)
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

    private mutating func http(_ node: Node) -> Action? {
        guard let fields = reader.mapping(node, as: "'http'", allowed: Self.httpKeys),
              let urlNode = reader.required(fields, "url", in: "'http'")
        else { return nil }
        var valid = true
        let url = reader.template(urlNode, for: "url")
        if let url, !["http://", "https://"].contains(where: { url.description.lowercased().hasPrefix($0) }) {
            reader.error("'url' must start with http:// or https://, found '\(url.description.prefix(40))'", at: urlNode)
            valid = false
        }
        var method = fields.has("body") ? "POST" : "GET"
        if let methodNode = fields["method"], let text = reader.text(methodNode, for: "method") {
            method = text.uppercased()
            if !HTTPAction.methods.contains(method) {
                reader.error("unknown method '\(text)'\(Suggestion.didYouMeanOrList(method, among: HTTPAction.methods))", at: methodNode)
                valid = false
            }
        }
        var headers: [HTTPHeaderTemplate] = []
        if let headersNode = fields["headers"], let headerFields = reader.mapping(headersNode, as: "'headers'", allowed: nil) {
            for entry in headerFields.entries {
                guard Self.isHeaderName(entry.key) else {
                    reader.error("'\(entry.key)' is not a header name: use letters, digits, '-' and '_'", at: entry.keyNode)
                    valid = false
                    continue
                }
                guard let value = reader.template(entry.value, for: entry.key),
                      checkVariables(of: value, at: entry.value, key: entry.key, secrets: true)
                else { valid = false; continue }
                headers.append(HTTPHeaderTemplate(name: entry.key, value: value))
            }
        }
        let body = fields["body"].flatMap { reader.template($0, for: "body") }
        let timeout = fields["timeout"].flatMap { reader.duration($0, for: "timeout") } ?? HTTPAction.defaultTimeout
        if let timeoutNode = fields["timeout"], timeout <= .zero || timeout > HTTPAction.maximumTimeout {
            reader.error("'timeout' must be above 0 and at most \(HTTPAction.maximumTimeout.spoken)", at: timeoutNode)
            valid = false
        }
        let retries = fields["retries"].flatMap { reader.integer($0, for: "retries", in: 0...HTTPAction.maximumRetries) } ?? 2
        let cafile = fields["cafile"].flatMap { reader.text($0, for: "cafile") }
        if let cafileNode = fields["cafile"], let url, !url.description.lowercased().hasPrefix("https://") {
            reader.error("'cafile' is for https:// URLs", at: cafileNode)
            valid = false
        }
        let urlChecked = url.map { checkVariables(of: $0, at: urlNode, key: "url", secrets: true) } ?? false
        let bodyChecked = body.map { checkVariables(of: $0, at: fields["body"]!, key: "body", secrets: true) } ?? !fields.has("body")
        guard valid, urlChecked, bodyChecked, let url else { return nil }
        return .http(HTTPAction(method: method, url: url, headers: headers, body: body, timeout: timeout, retries: retries, cafile: cafile))
    }

    /// RFC 9110's token, narrowed to what header names use in practice.
    private static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
        }
    }

    private mutating func checkVariables(of template: Template, at node: Node, key: String, secrets: Bool = false) -> Bool {
        var scope = TemplateScope(devices: devices, triggerDevices: triggerDevices, triggersHadErrors: triggersHadErrors)
        scope.allowsSecrets = secrets
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
