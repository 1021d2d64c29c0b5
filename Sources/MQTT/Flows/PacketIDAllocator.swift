/// Hands out packet identifiers that no unacknowledged PUBLISH, SUBSCRIBE or
/// UNSUBSCRIBE is using (MQTT 3.1.1 §2.3.1: the three share one space). The
/// client's publishes and requests share one; each broker session has its own.
///
/// Identifiers are taken in rising order and wrap from 65,535 to 1, so that a
/// freed identifier is not reused at once: a late duplicate acknowledgement of
/// the old packet then cannot be taken for one of the new.
package struct PacketIDAllocator: Sendable {
    private var inUse: Set<UInt16> = []
    private var next: UInt16 = 1

    package init() {}

    /// How many identifiers are taken.
    package var count: Int { inUse.count }

    /// A free identifier, now taken; nil when all 65,535 are taken.
    package mutating func allocate() -> UInt16? {
        guard inUse.count < Int(UInt16.max) else { return nil }
        while true {
            let candidate = next
            next = next == .max ? 1 : next + 1
            if inUse.insert(candidate).inserted { return candidate }
        }
    }

    /// Takes a specific identifier, as one kept from an earlier connection of
    /// the same session; false if it was taken already.
    @discardableResult
    package mutating func reserve(_ id: UInt16) -> Bool {
        precondition(id != 0, "packet identifier 0 is never valid")
        return inUse.insert(id).inserted
    }

    /// Frees an identifier once its exchange is complete.
    package mutating func release(_ id: UInt16) {
        inUse.remove(id)
    }
}
