import MQTTTopics

/// Who a connected client is, as the ACL sees it.
public struct ClientIdentity: Sendable, Hashable {
    /// The client id the session runs under (the one the broker assigned,
    /// for a client that sent none).
    public var clientID: String
    /// The authenticated user name; nil for an anonymous client.
    public var username: String?

    public init(clientID: String, username: String?) {
        self.clientID = clientID
        self.username = username
    }
}

/// The ACL rules of one client, compiled: `%c` and `%u` replaced, filters
/// split into levels. Made by `AccessControlList.permissions(for:)`.
public struct ClientPermissions: Sendable {
    /// A client's own `topic` rules, or its `pattern` rules.
    struct RuleGroup: Sendable {
        private(set) var denies: [TopicFilter] = []
        private(set) var grants: [(filter: TopicFilter, access: RuleAccess)] = []

        var isEmpty: Bool { denies.isEmpty && grants.isEmpty }

        mutating func add(_ filter: TopicFilter, _ access: RuleAccess) {
            if access == .deny { denies.append(filter) } else { grants.append((filter, access)) }
        }

        /// Mosquitto checks denials first, whatever their place in the file.
        func decision(on topic: UnsafeBufferPointer<UInt8>, for access: RuleAccess) -> Bool? {
            if denies.contains(where: { $0.matches(topic) }) { return false }
            if grants.contains(where: { $0.access.contains(access) && $0.filter.matches(topic) }) { return true }
            return nil
        }
    }

    private let own: RuleGroup?
    /// nil when the client's id or user name holds a wildcard: patterns then
    /// refuse whatever its own rules do not allow.
    private let patterns: RuleGroup?

    init(own: RuleGroup?, patterns: RuleGroup?) {
        self.own = own
        self.patterns = patterns
    }

    /// Whether the client may publish to the topic name `topic`. A refused
    /// QoS 1 or 2 PUBLISH is still acknowledged (Mosquitto does so), and not
    /// delivered or retained.
    public func mayPublish(topic: String) -> Bool {
        allows(.write, on: topic)
    }

    /// Whether a message on the topic name `topic` may be delivered to the
    /// client, retained messages included: Mosquitto checks each message as
    /// it is sent, against its own topic.
    public func mayReceive(topic: String) -> Bool {
        allows(.read, on: topic)
    }

    private func allows(_ access: RuleAccess, on topic: String) -> Bool {
        var topic = topic
        return topic.withUTF8 { bytes in
            if let decided = own?.decision(on: bytes, for: access) { return decided }
            return patterns?.decision(on: bytes, for: access) ?? false
        }
    }

    /// Whether a subscription to `filter` could ever deliver a message.
    ///
    /// Mosquitto 2.0 grants every subscription and only filters the messages
    /// (`mayReceive`). This answers false when no message could get through:
    /// no read rule shares a topic with the filter, or what it shares is all
    /// covered by a `deny` checked before it. The broker can then refuse the
    /// subscription (SUBACK 0x80) and the client learns of its mistake; what is
    /// delivered stays exactly what Mosquitto delivers. When in doubt (denials
    /// that only together cover the filter) the answer is true.
    ///
    /// A shared subscription (`$share/GROUP/FILTER`) is judged by its FILTER.
    public func maySubscribe(filter: String) -> Bool {
        let subscribed = TopicFilter(compiling: Self.withoutSharePrefix(filter))
        let ownDenies = own?.denies ?? []
        func reachable(through grants: [(filter: TopicFilter, access: RuleAccess)], past denies: [TopicFilter]) -> Bool {
            grants.contains { grant in
                guard grant.access.contains(.read), let common = subscribed.intersection(grant.filter) else { return false }
                return !denies.contains { $0.covers(common) }
            }
        }
        if reachable(through: own?.grants ?? [], past: ownDenies) { return true }
        guard let patterns else { return false }
        return reachable(through: patterns.grants, past: ownDenies + patterns.denies)
    }

    private static func withoutSharePrefix(_ filter: String) -> String {
        let levels = filter.utf8.split(separator: UInt8(ascii: "/"), maxSplits: 2, omittingEmptySubsequences: false)
        guard levels.count == 3, levels[0].elementsEqual("$share".utf8) else { return filter }
        return String(Substring(levels[2]))
    }
}
