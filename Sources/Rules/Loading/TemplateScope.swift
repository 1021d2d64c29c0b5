/// The variables a rule's templates may use, checked when the rule loads so
/// that a typo is an error with a line number rather than an empty string
/// at run time.
///
/// - `trigger.kind|topic|payload|value|previous|device`: what fired the rule.
/// - `device.id|name|room|presence|<sensor or actuator>`: the device of the
///   trigger (only for rules triggered by a device, sensor or actuator).
/// - `devices.<id>.id|name|room|presence|<sensor or actuator>`: any device.
/// - `rule.id|description`.
/// - `now`, `now.time`, `now.date`: the moment the action runs.
struct TemplateScope {
    static let roots = ["trigger", "device", "devices", "rule", "now", SecretText.root]
    static let triggerFields = ["kind", "topic", "payload", "value", "previous", "device"]
    static let deviceFields = ["id", "name", "room", "presence"]
    static let ruleFields = ["id", "description"]
    static let nowFields = ["time", "date"]

    let devices: [String: Device]
    /// The devices the rule's triggers watch.
    let triggerDevices: [Device]
    /// Whether a trigger had errors of its own: what `device` means is then
    /// unknown, and is not reported as a second mistake.
    var triggersHadErrors = false
    /// Whether `secrets.<name>` may be used: only in an `http` action, whose
    /// request is never logged with them.
    var allowsSecrets = false

    /// Why `path` names no variable here, or nil when it does.
    func problem(with path: [String]) -> String? {
        let name = path.joined(separator: ".")
        func unknown(_ word: String, among candidates: [String]) -> String {
            "unknown template variable '\(name)'\(Suggestion.didYouMean(word, among: candidates))"
        }
        switch path.first! {
        case "trigger":
            return path.count == 2 && Self.triggerFields.contains(path[1])
                ? nil : unknown(path.count > 1 ? path[1] : name, among: Self.triggerFields)
        case "rule":
            return path.count == 2 && Self.ruleFields.contains(path[1])
                ? nil : unknown(path.count > 1 ? path[1] : name, among: Self.ruleFields)
        case "now":
            return path.count == 1 || (path.count == 2 && Self.nowFields.contains(path[1]))
                ? nil : unknown(path[1], among: Self.nowFields)
        case "device":
            if triggersHadErrors { return nil }
            guard !triggerDevices.isEmpty else {
                return "'\(name)' needs a trigger on a device, sensor or actuator; use devices.<id>... to name one"
            }
            let fields = Self.deviceFields + triggerDevices.flatMap(Self.members)
            return path.count == 2 && fields.contains(path[1]) ? nil : unknown(path.count > 1 ? path[1] : name, among: fields)
        case "devices":
            guard path.count == 3 else { return "write devices.<id>.<field>, as in devices.\(devices.keys.sorted().first ?? "node").name" }
            guard let device = devices[path[1]] else { return "unknown device '\(path[1])'\(Suggestion.didYouMean(path[1], among: devices.keys))" }
            let fields = Self.deviceFields + Self.members(of: device)
            return fields.contains(path[2]) ? nil : unknown(path[2], among: fields)
        case SecretText.root:
            guard allowsSecrets else {
                return "'\(name)' can only be used in an 'http' action: what else a rule sends is logged"
            }
            return path.count == 2 ? nil : "write secrets.<name>, as in secrets.ntfy_token"
        default:
            return unknown(path[0], among: Self.roots)
        }
    }

    private static func members(of device: Device) -> [String] {
        device.sensors.map(\.name) + device.actuators.map(\.name)
    }
}
