import Logging
import MQTT
import MQTTTopics

extension BrokerCore {
    /// Publishes a message of the in-process API, whose topic no decoder
    /// has checked: an invalid one is logged and counted, not routed.
    func publishFromProcess(_ message: MQTTMessage, leavingOut publisher: (any Subscriber)? = nil) {
        do {
            try Topic.validateName(message.topic)
        } catch {
            refuseFromProcess(message, "\(error)")
            return
        }
        if let problem = Self.depthProblem(message.topic) {
            refuseFromProcess(message, problem)
            return
        }
        publish(BrokerMessage(message), leavingOut: publisher)
    }

    private func refuseFromProcess(_ message: MQTTMessage, _ reason: String) {
        statistics.droppedMessages += 1
        logger.error("dropped an in-process message to \"\(message.topic)\": \(reason)")
    }

    /// Routes one message to every matching subscriber, and keeps it if
    /// retained. A subscriber gets it once for its ordinary subscriptions,
    /// at the highest QoS they grant and with all their subscription
    /// identifiers, and once more for each shared subscription group that
    /// chose it. A connection it came from (`origin`) waits while a
    /// subscriber it reaches is behind (`applyBackpressure`); the in-process
    /// subscriber that published it (`publisher`) is left out, as are the
    /// origin's own No Local subscriptions. Returns how many subscribers it
    /// was handed to (for MQTT 5's "No matching subscribers").
    @discardableResult
    func publish(_ message: BrokerMessage, from origin: ConnectionHandler? = nil, leavingOut publisher: (any Subscriber)? = nil) -> Int {
        if message.message.retain { retained.store(message) }
        routingPass &+= 1
        let pass = routingPass
        let publishedQoS = message.message.qos
        let originSession = origin?.session
        var matched: [(subscriber: any Subscriber, delivery: Delivery)] = []
        subscriptions.forEachMatch(of: message.topic, direct: { subscriber, options in
            if options.noLocal, subscriber === originSession { return }
            // §3.3.1-9: a message matching an established subscription goes out with RETAIN 0, unless asked.
            let retain = options.retainAsPublished && message.message.retain
            if subscriber.routingMark.pass == pass {
                let slot = subscriber.routingMark.slot
                matched[slot].delivery.qos = max(matched[slot].delivery.qos, min(options.qos, publishedQoS))
                matched[slot].delivery.retain = matched[slot].delivery.retain || retain
                if let identifier = options.identifier { matched[slot].delivery.subscriptionIdentifiers.append(identifier) }
            } else {
                subscriber.routingMark = RoutingMark(pass: pass, slot: matched.count)
                matched.append((subscriber, Delivery(
                    qos: min(options.qos, publishedQoS), retain: retain,
                    subscriptionIdentifiers: options.identifier.map { [$0] } ?? [])))
            }
        }, shared: { subscriber, options in
            matched.append((subscriber, Delivery(
                qos: min(options.qos, publishedQoS), retain: options.retainAsPublished && message.message.retain,
                subscriptionIdentifiers: options.identifier.map { [$0] } ?? [])))
        })
        var encoded = SharedEncoding()
        var handedOver = 0
        for (subscriber, delivery) in matched where subscriber !== publisher {
            subscriber.deliver(message, as: delivery, encoded: &encoded)
            handedOver += 1
            if let origin { applyBackpressure(after: subscriber, from: origin) }
        }
        return handedOver
    }
}
