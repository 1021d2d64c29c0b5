import Rules

/// One Home Assistant MQTT discovery config, as a firmware announces it on
/// `<prefix>/<component>/[<node_id>/]<object_id>/config`: its keys expanded
/// to their long names and `~` replaced by the base topic.
struct HomeAssistantConfig: Sendable, Hashable {
    /// Where it was announced.
    var discoveryTopic: String
    /// `sensor`, `switch`, `light`, ...
    var component: String
    var nodeID: String?
    var objectID: String
    /// The config, with long keys only.
    var options: [String: JSONValue]

    /// Where an announcement's parts sit in its topic, or nil when the
    /// topic is not a config topic under `prefix`.
    static func parts(ofTopic topic: String, prefix: String) -> (component: String, nodeID: String?, objectID: String)? {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let prefixLevels = prefix.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard levels.count == prefixLevels.count + 3 || levels.count == prefixLevels.count + 4,
              Array(levels.prefix(prefixLevels.count)) == prefixLevels, levels.last == "config"
        else { return nil }
        let rest = Array(levels.dropFirst(prefixLevels.count).dropLast())
        guard rest.allSatisfy({ !$0.isEmpty }) else { return nil }
        return rest.count == 3 ? (rest[0], rest[1], rest[2]) : (rest[0], nil, rest[1])
    }

    /// Reads a config, or nil when `document` is not a JSON object.
    init?(topic: String, component: String, nodeID: String?, objectID: String, document: JSONValue) {
        guard let members = document.members else { return nil }
        discoveryTopic = topic
        self.component = component
        self.nodeID = nodeID
        self.objectID = objectID
        var options = HomeAssistantAbbreviations.expand(members, with: HomeAssistantAbbreviations.config)
        if let device = options["device"]?.members {
            options["device"] = .object(HomeAssistantAbbreviations.expand(device, with: HomeAssistantAbbreviations.device))
        }
        let base = options["~"]?.string
        if let entries = options["availability"]?.elements {
            options["availability"] = .array(entries.map { entry in
                guard let members = entry.members else { return entry }
                var expanded = HomeAssistantAbbreviations.expand(members, with: HomeAssistantAbbreviations.availability)
                if let base, let topic = expanded["topic"]?.string { expanded["topic"] = .string(Self.substitute(base, in: topic)) }
                return .object(expanded)
            })
        }
        if let base {
            for (key, value) in options where key.hasSuffix("_topic") {
                if let topic = value.string { options[key] = .string(Self.substitute(base, in: topic)) }
            }
        }
        self.options = options
    }

    /// Home Assistant's rule: a `~` at the start or the end of a topic
    /// stands for the base topic.
    private static func substitute(_ base: String, in topic: String) -> String {
        if topic.hasPrefix("~") { return base + topic.dropFirst() }
        if topic.hasSuffix("~") { return topic.dropLast() + base }
        return topic
    }

    // MARK: Reading options

    /// An option's text: strings as they are, numbers and booleans as JSON writes them.
    func text(_ key: String) -> String? { options[key]?.text }

    func number(_ key: String) -> Double? { options[key]?.number ?? options[key]?.string.flatMap(Double.init) }

    /// The entity's own name; nil when it has none (or `null`, which names
    /// the entity after its device).
    var entityName: String? { text("name").flatMap { $0.isEmpty ? nil : $0 } }

    var device: [String: JSONValue] { options["device"]?.members ?? [:] }

    /// `device.identifiers`, a string or a list of them.
    var deviceIdentifiers: [String] {
        guard let identifiers = device["identifiers"] else { return [] }
        if let list = identifiers.elements { return list.compactMap(\.text) }
        return identifiers.text.map { [$0] } ?? []
    }

    var deviceName: String? { device["name"]?.text.flatMap { $0.isEmpty ? nil : $0 } }

    /// What the configs of one device share: its identifiers, else the
    /// node id of the topic, else the object id.
    var deviceKey: String {
        if let identifier = deviceIdentifiers.first { return "identifiers:\(identifier)" }
        if let nodeID { return "node:\(nodeID)" }
        return "object:\(objectID)"
    }

    /// The topics the entity reads and writes, to tell whether a device file uses them.
    var stateAndCommandTopics: [String] {
        options.filter { $0.key.hasSuffix("state_topic") || $0.key.hasSuffix("command_topic") }.compactMap(\.value.string).sorted()
    }

    /// The availability topics with their payloads, in either form.
    var availability: [(topic: String, online: String, offline: String, template: String?)] {
        let online = text("payload_available") ?? "online"
        let offline = text("payload_not_available") ?? "offline"
        if let topic = text("availability_topic") {
            return [(topic, online, offline, text("availability_template"))]
        }
        guard let entries = options["availability"]?.elements else { return [] }
        return entries.compactMap { entry in
            guard let topic = entry["topic"]?.text else { return nil }
            return (topic, entry["payload_available"]?.text ?? "online", entry["payload_not_available"]?.text ?? "offline",
                    entry["value_template"]?.text)
        }
    }
}
