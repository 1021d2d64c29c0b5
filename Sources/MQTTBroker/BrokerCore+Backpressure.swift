import Logging
import NIOCore

/// Backpressure: while a subscriber is behind (its queue above its high-water
/// mark, or the daemon's input queue full), the connections whose messages
/// reach it are not read, so TCP holds their clients back instead of the
/// broker acknowledging messages it then drops. A subscriber behind for
/// longer than `slowConsumerTimeout` is a slow consumer: logged, counted,
/// and from then on its excess is dropped as before, so that one stuck
/// client cannot stall the home.
extension BrokerCore {
    /// After a message from `origin` was handed to `subscriber`.
    func applyBackpressure(after subscriber: any Subscriber, from origin: ConnectionHandler) {
        switch subscriber.flowControl.state {
        case .slowConsumer:
            return
        case .flowing:
            guard subscriber.isBehind, configuration.slowConsumerTimeout > .zero else { return }
            subscriber.flowControl.state = .congested(since: .now())
            congestedSubscribers[ObjectIdentifier(subscriber)] = subscriber
            // It catches up by reading its acknowledgements: whoever holds it back must let go.
            subscriber.ownConnection?.releaseAll()
        case .congested:
            break
        }
        // A publisher that is behind itself is left alone for the same reason.
        guard origin !== subscriber.ownConnection, origin.session?.flowControl.isCongested != true else { return }
        let key = ObjectIdentifier(origin)
        guard subscriber.flowControl.heldBack[key] == nil else { return }
        subscriber.flowControl.heldBack[key] = origin
        origin.holdBack(by: ObjectIdentifier(subscriber))
    }

    /// After a subscriber made progress (an acknowledgement, the daemon's
    /// queue emptying): once caught up, its publishers are read again.
    func subscriberProgressed(_ subscriber: any Subscriber) {
        if case .flowing = subscriber.flowControl.state { return }
        guard subscriber.hasCaughtUp else { return }
        if case .slowConsumer = subscriber.flowControl.state {
            logger.info("slow consumer \(subscriber.name) has caught up")
        }
        endBackpressure(on: subscriber)
    }

    /// A subscriber that leaves (disconnects, unsubscribes from the broker)
    /// holds nobody back. The new state is in place before the publishers
    /// are read again: the packets they had waiting reach the subscriber at
    /// once, and must find it a slow consumer, not congested anew.
    func endBackpressure(on subscriber: any Subscriber, leaving state: FlowControl.State = .flowing) {
        let heldBack = subscriber.flowControl.heldBack
        subscriber.flowControl = FlowControl(state: state)
        congestedSubscribers[ObjectIdentifier(subscriber)] = nil
        for connection in heldBack.values { connection.release(by: ObjectIdentifier(subscriber)) }
    }

    /// Declares slow consumers those behind for longer than the timeout.
    func sweepCongestion(now: NIODeadline) {
        let limit = configuration.slowConsumerTimeout
        for subscriber in congestedSubscribers.values {
            guard case .congested(let since) = subscriber.flowControl.state, now - since >= limit else { continue }
            statistics.slowConsumers += 1
            logger.warning("""
                slow consumer \(subscriber.name): behind for \(limit); its publishers are read again, \
                and messages its queue cannot take are dropped until it catches up
                """)
            endBackpressure(on: subscriber, leaving: .slowConsumer)
        }
    }
}
