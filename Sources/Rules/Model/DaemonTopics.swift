import MQTTTopics

/// The daemon's own topic space: everything under `homerules/`, where it
/// publishes its presence (`homerules/status`) and its events
/// (`homerules/events/<kind>`).
///
/// These topics are output only. Nothing on them reaches the daemon's rules
/// or its log as input, whatever filter a rule uses, so that a rule on `#`
/// cannot make the daemon feed on its own events; and a home that asks for
/// input there is refused when it loads.
public enum DaemonTopics {
    /// The first level of every topic of the space.
    public static let root = "homerules"

    /// Where the daemon announces itself: `online` / `offline`, retained.
    public static let status = root + "/status"

    /// Whether `topic` lies in the daemon's space. Compared by bytes, as
    /// MQTT splits levels: `homerules/` followed by a combining mark is
    /// still in the space.
    public static func contains(_ topic: String) -> Bool {
        let bytes = topic.utf8
        guard bytes.starts(with: root.utf8) else { return false }
        let rest = bytes.dropFirst(root.utf8.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }

    /// Whether every topic `filter` matches lies in the daemon's space, so
    /// that as an input it could never receive anything.
    static func containsEveryMatch(of filter: TopicFilter) -> Bool {
        filter.levels.first == .literal(Array(root.utf8))
    }

    /// Why a home may not ask for input on `text`, a filter or topic
    /// inside the space, to show the user.
    static func inputProblem(_ text: String) -> String {
        "'\(text)' is in the daemon's own topic space (\(root)/...), where only it publishes; "
            + "nothing there comes back to it as input"
    }
}
