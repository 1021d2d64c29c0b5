import EventLog
import Foundation
import MQTT
import Rules

/// `homerules rules enable | disable | run`: requests to the running daemon
/// over MQTT, and the overrides they leave.
///
/// A request is a message on `homerules/control/rules/<id>` with the payload
/// `enable`, `disable` or `run`. The daemon takes it before anything else
/// (its own topics never reach the rules), states each rule it overrides on
/// `homerules/rules/<id>/enabled` (`true` / `false`, retained), and keeps the
/// overrides in the event log's state table, so that they outlive reloads
/// and restarts and `rules list` and `why` can read them.
public enum RuleControl {
    public enum Request: String, Sendable, CaseIterable {
        case enable, disable, run
    }

    /// The prefix of request topics; the rule id is the last level.
    public static let requestPrefix = DaemonTopics.root + "/control/rules/"
    /// What the daemon subscribes to for requests.
    public static let requestFilter = requestPrefix + "+"
    /// Who a run by hand names, and the reason it is logged with.
    static let runRequester = "homerules rules run"
    public static let runReason = Engine.runByHandReason(by: runRequester)

    /// Where the daemon keeps the overrides, in the event log's state table.
    public static let storageKey = "rule-overrides"

    /// The topic of a request about `rule`.
    public static func requestTopic(_ rule: String) -> String { requestPrefix + rule }

    /// Where the daemon says whether `rule` is enabled, retained.
    public static func enabledTopic(_ rule: String) -> String { DaemonTopics.root + "/rules/\(rule)/enabled" }

    /// The request a message makes, or nil when it is none.
    static func request(in message: MQTTMessage) -> (rule: String, request: Request)? {
        guard message.topic.hasPrefix(requestPrefix) else { return nil }
        let rule = String(message.topic.dropFirst(requestPrefix.count))
        guard !rule.isEmpty, !rule.contains("/"),
              let request = Request(rawValue: message.payloadString.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
        else { return nil }
        return (rule, request)
    }

    /// The overrides saved by the daemon (rule id: enabled); none when the
    /// log has none or they cannot be read.
    public static func overrides(in database: EventDatabase) -> [String: Bool] {
        guard let data = try? database.stateValue(forKey: storageKey) else { return [:] }
        return (try? JSONDecoder().decode([String: Bool].self, from: data)) ?? [:]
    }

    static func encoded(_ overrides: [String: Bool]) -> Data {
        (try? JSONEncoder().encode(overrides)) ?? Data("{}".utf8)
    }
}
