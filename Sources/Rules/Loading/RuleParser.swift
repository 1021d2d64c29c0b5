import Yams

/// Reads the rules of one file (a list of rules, or one rule), resolving
/// every reference against the devices already loaded.
struct RuleParser {
    var reader: YAMLReader
    let devices: [String: Device]
    /// Sensors and actuators by device id that failed to load: references
    /// to them are not reported again.
    let brokenMembers: [String: Set<String>]
    /// The devices watched by the triggers of the rule being read, for template checks.
    var triggerDevices: [Device] = []
    /// Whether a trigger of the rule being read had errors.
    var triggersHadErrors = false

    private static let ruleKeys = [
        "id", "description", "enabled", "when", "if", "then", "otherwise", "mode", "cooldown", "loop_guard",
    ]

    init(path: String, devices: [String: Device], brokenMembers: [String: Set<String>] = [:]) {
        reader = YAMLReader(path: path)
        self.devices = devices
        self.brokenMembers = brokenMembers
    }

    /// The rules of `text` that have an id, with the node of the id for
    /// duplicate checks. A rule with errors comes back with what could be
    /// read; the loader uses none of it when there were errors.
    mutating func rules(in text: String) -> [Parsed<Rule>] {
        reader.documents(of: text).flatMap { reader.items($0) }.compactMap { rule($0) }
    }

    private mutating func rule(_ node: Node) -> Parsed<Rule>? {
        guard let fields = reader.mapping(node, as: "a rule", allowed: Self.ruleKeys) else { return nil }
        let idNode = reader.required(fields, "id", in: "a rule")
        let id = idNode.flatMap { reader.identifier($0, for: "id") }
        let description = fields["description"].flatMap { reader.text($0, for: "description") }
        let enabled = fields["enabled"].flatMap { reader.bool($0, for: "enabled") } ?? true
        let triggerNodes = reader.required(fields, "when", in: "a rule").map { reader.items($0) } ?? []
        if let when = fields["when"], triggerNodes.isEmpty { reader.error("'when' needs at least one trigger", at: when) }
        let triggers = triggerNodes.map { trigger($0) }
        triggerDevices = triggers.compactMap { $0?.device }.compactMap { devices[$0] }
        triggersHadErrors = triggers.contains { $0 == nil }
        let conditions = fields["if"].map { reader.items($0).compactMap { condition($0) } } ?? []
        let actionNodes = reader.required(fields, "then", in: "a rule").map { reader.items($0) } ?? []
        let actions = actionNodes.compactMap { action($0) }
        if let then = fields["then"], actionNodes.isEmpty { reader.error("'then' needs at least one action", at: then) }
        let otherwise = fields["otherwise"].map { reader.items($0).compactMap { action($0) } } ?? []
        if let key = fields.keyNode("otherwise"), !triggers.isEmpty, !triggers.contains(where: { $0?.isLevel ?? true }) {
            reader.error(
                "'otherwise' runs when a trigger stops holding, but these triggers are events; "
                    + "use a threshold, a state ('to'/'from') or a presence trigger",
                at: key)
        }
        let mode = fields["mode"].flatMap { self.mode($0) } ?? .single
        let cooldown = fields["cooldown"].flatMap { reader.duration($0, for: "cooldown") }
        let loopGuard = fields["loop_guard"].flatMap { self.loopGuard($0) } ?? LoopGuard()
        let validTriggers = triggers.compactMap { $0 }
        guard let id, let idNode else { return nil }
        let rule = Rule(
            id: id, description: description, enabled: enabled, triggers: validTriggers, conditions: conditions,
            actions: actions, otherwise: otherwise, mode: mode, cooldown: cooldown, loopGuard: loopGuard,
            location: reader.location(node))
        return Parsed(id: id, idNode: idNode, location: rule.location, value: rule)
    }

    private mutating func mode(_ node: Node) -> RuleMode? {
        guard let text = reader.text(node, for: "mode") else { return nil }
        guard let mode = RuleMode(rawValue: text.lowercased()) else {
            let names = RuleMode.allCases.map(\.rawValue)
            reader.error("unknown mode '\(text)'\(Suggestion.didYouMeanOrList(text, among: names))", at: node)
            return nil
        }
        return mode
    }

    private mutating func loopGuard(_ node: Node) -> LoopGuard? {
        guard let fields = reader.mapping(node, as: "loop_guard", allowed: ["max_runs", "within"]) else { return nil }
        var guardSettings = LoopGuard()
        if let runs = fields["max_runs"].flatMap({ reader.integer($0, for: "max_runs", in: 1...100_000) }) {
            guardSettings.maxRuns = runs
        }
        if let within = fields["within"].flatMap({ reader.duration($0, for: "within") }) {
            guardSettings.window = within
        }
        return guardSettings
    }
}
