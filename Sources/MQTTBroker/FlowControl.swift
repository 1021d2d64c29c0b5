import NIOCore

/// Where a subscriber stands with the messages routed to it, and which
/// publishers wait for it (backpressure, `BrokerCore+Backpressure`).
struct FlowControl {
    enum State {
        /// Keeping up.
        case flowing
        /// Behind since then: the connections feeding it are not read.
        case congested(since: NIODeadline)
        /// Behind for longer than the slow-consumer timeout: nobody waits
        /// for it, and what its queue cannot take is dropped, until it has
        /// caught up.
        case slowConsumer
    }

    var state = State.flowing
    /// The connections held back because they fed it while it was behind.
    var heldBack: [ObjectIdentifier: ConnectionHandler] = [:]

    var isCongested: Bool {
        if case .congested = state { true } else { false }
    }
}
