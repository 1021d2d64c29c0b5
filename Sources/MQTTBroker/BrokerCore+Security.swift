import Logging
import MQTT

extension BrokerCore {
    /// Loads every listener's security; throws (changing nothing) if a
    /// file is missing or broken.
    func loadPolicies() throws {
        policies = try configuration.listeners.map(ListenerPolicy.load)
    }

    /// Rereads the password files, ACL files and certificates. Connected
    /// clients stay connected; the new ACLs apply to their next publish,
    /// subscribe and delivery. On error the files in force stay in force.
    /// Returns the ACL warnings of the new files.
    func reloadPolicies() throws -> [String] {
        let fresh = try configuration.listeners.map(ListenerPolicy.load)
        policies = fresh
        for session in allSessions {
            session.permissions = fresh[session.listenerIndex].permissions(for: session.identity)
        }
        return fresh.flatMap { $0.acl?.warnings.map(\.description) ?? [] }
    }

    /// Whether a message the session's client sends on `topic`, as a
    /// PUBLISH or as its will, is routed: `$SYS/...` is the broker's to
    /// write, and the ACL must let the client write there. A refused QoS 1
    /// or 2 PUBLISH is still acknowledged, and a refused will is dropped,
    /// as Mosquitto does.
    func mayPublish(_ topic: String, from session: Session) -> Bool {
        if topic.hasPrefix("$SYS/") { return false }
        guard let permissions = session.permissions else { return true }
        if permissions.mayPublish(topic: topic) { return true }
        // Debug, as Mosquitto: a misconfigured sensor may publish several times a second.
        logger.debug("denied publish to \"\(topic)\" by the ACL", metadata: ["client": "\(session.clientID)"])
        return false
    }
}
