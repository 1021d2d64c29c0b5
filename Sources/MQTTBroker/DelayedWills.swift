import MQTT
import NIOCore

/// Wills waiting out their will delay interval (MQTT 5 §3.1.3.2.2): sent
/// when the delay has passed or the session ends, whichever comes first,
/// and never if the client resumes its session in time.
///
/// Few at a time (clients gone with a delayed will), so a dictionary
/// scanned by the broker's sweep is enough.
struct DelayedWills {
    private var waiting: [ObjectIdentifier: (will: Will, session: Session, deadline: NIODeadline)] = [:]

    mutating func add(_ will: Will, of session: Session, dueAt deadline: NIODeadline) {
        waiting[ObjectIdentifier(session)] = (will, session, deadline)
    }

    /// Takes back the session's will, if one waits: returns it.
    @discardableResult
    mutating func cancel(for session: Session) -> Will? {
        waiting.removeValue(forKey: ObjectIdentifier(session))?.will
    }

    /// Removes and returns the wills due by `now`, oldest deadline first.
    mutating func due(by now: NIODeadline) -> [(Will, Session)] {
        guard !waiting.isEmpty else { return [] }
        let due = waiting.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }
        for entry in due { waiting[entry.key] = nil }
        return due.map { ($0.value.will, $0.value.session) }
    }
}
