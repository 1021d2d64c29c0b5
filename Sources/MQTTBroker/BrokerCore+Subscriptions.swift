import Logging
import MQTT
import MQTTTopics
import NIOCore

extension BrokerCore {
    // MARK: Client subscriptions

    /// A subscription the broker took, with what `deliverRetained` needs.
    struct AcceptedSubscription {
        let filter: SubscriptionFilter
        let request: TopicSubscription
        let options: SubscriptionOptions
        /// Whether the session had no subscription to this filter before.
        let isNew: Bool
    }

    /// Adds the session's subscriptions. Returns one SUBACK entry per
    /// request (the granted QoS, or in MQTT 5 why not; 0x80 in 3.1.1), and
    /// the subscriptions taken.
    func subscribe(
        _ session: Session, to packet: SubscribePacket, isV5: Bool
    ) -> (codes: [SubscribeReturnCode], accepted: [AcceptedSubscription]) {
        let identifier = packet.properties.subscriptionIdentifiers.first
        var accepted: [AcceptedSubscription] = []
        let codes = packet.subscriptions.map { request -> SubscribeReturnCode in
            let filter: SubscriptionFilter
            do {
                filter = try SubscriptionFilter(request.filter)
            } catch {
                logger.notice("refused subscription to \"\(request.filter)\": \(error)", metadata: ["client": "\(session.clientID)"])
                return isV5 ? SubscribeReturnCode(.topicFilterInvalid) : .failure
            }
            if let permissions = session.permissions, !permissions.maySubscribe(filter: filter.topicFilter) {
                logger.info("denied subscription to \"\(request.filter)\" by the ACL", metadata: ["client": "\(session.clientID)"])
                return isV5 ? SubscribeReturnCode(.notAuthorized) : .failure
            }
            let options = SubscriptionOptions(request, identifier: identifier)
            subscriptions.insert(filter, options: options, for: session)
            let isNew = session.subscriptions.updateValue(options, forKey: filter) == nil
            accepted.append(AcceptedSubscription(filter: filter, request: request, options: options, isNew: isNew))
            return SubscribeReturnCode(granted: request.qos)
        }
        return (codes, accepted)
    }

    /// Removes the session's subscriptions; returns for each filter whether
    /// it had one.
    func unsubscribe(_ session: Session, from filters: [String]) -> [Bool] {
        filters.map { text in
            guard let filter = try? SubscriptionFilter(text), session.subscriptions.removeValue(forKey: filter) != nil
            else { return false }
            subscriptions.remove(filter, for: session)
            return true
        }
    }

    /// Sends the retained messages matching each subscription taken
    /// (§3.3.1-6), with the RETAIN flag set, as its Retain Handling says;
    /// a shared subscription gets none (§4.8.2).
    func deliverRetained(to subscriber: any Subscriber, for accepted: [AcceptedSubscription]) {
        let now = NIODeadline.now()
        for subscription in accepted where !subscription.filter.isShared {
            switch subscription.request.retainHandling {
            case .doNotSend: continue
            case .sendOnNewSubscription where !subscription.isNew: continue
            default: break
            }
            for message in retained.matches(subscription.filter.topicFilter, at: now) {
                let delivery = Delivery(
                    qos: min(message.message.qos, subscription.options.qos), retain: true,
                    subscriptionIdentifiers: subscription.options.identifier.map { [$0] } ?? [])
                subscriber.deliver(message, as: delivery)
            }
        }
    }

    // MARK: In-process subscribers

    func subscribe(_ subscriber: LocalSubscriber, to requests: [TopicSubscription]) throws(TopicRefusal) {
        let filters = try requests.map { request throws(TopicRefusal) in try SubscriptionFilter(request.filter) }
        var accepted: [AcceptedSubscription] = []
        for (filter, request) in zip(filters, requests) {
            let options = SubscriptionOptions(qos: request.qos)
            subscriptions.insert(filter, options: options, for: subscriber)
            subscriber.filters.insert(filter)
            accepted.append(AcceptedSubscription(filter: filter, request: request, options: options, isNew: true))
        }
        deliverRetained(to: subscriber, for: accepted)
    }

    /// Replaces the subscriber's filters: new ones are added (with their
    /// retained messages), gone ones removed, kept ones untouched, so no
    /// message is lost or doubled by the change.
    func update(_ subscriber: LocalSubscriber, to requests: [TopicSubscription]) throws(TopicRefusal) {
        let filters = try requests.map { request throws(TopicRefusal) in try SubscriptionFilter(request.filter) }
        for filter in subscriber.filters.subtracting(filters) {
            subscriptions.remove(filter, for: subscriber)
            subscriber.filters.remove(filter)
        }
        var added: [AcceptedSubscription] = []
        for (filter, request) in zip(filters, requests) {
            let options = SubscriptionOptions(qos: request.qos)
            subscriptions.insert(filter, options: options, for: subscriber)
            if subscriber.filters.insert(filter).inserted {
                added.append(AcceptedSubscription(filter: filter, request: request, options: options, isNew: true))
            }
        }
        deliverRetained(to: subscriber, for: added)
    }

    func unsubscribe(_ subscriber: LocalSubscriber) {
        for filter in subscriber.filters { subscriptions.remove(filter, for: subscriber) }
        subscriber.filters.removeAll()
        endBackpressure(on: subscriber)
    }

    /// The daemon says whether its input queue is full.
    func setBehind(_ subscriber: LocalSubscriber, _ behind: Bool) {
        subscriber.isBehind = behind
        if !behind { subscriberProgressed(subscriber) }
    }

    // MARK: Topics

    /// Why a topic or filter is deeper than this broker takes, or nil.
    static func depthProblem(_ topic: String) -> String? {
        let levels = Topic.levelCount(topic)
        guard levels > BrokerConfiguration.maximumTopicLevels else { return nil }
        return "topic has \(levels) levels, more than the \(BrokerConfiguration.maximumTopicLevels) this broker takes"
    }

    /// Checks a filter by MQTT's rules and the broker's depth limit.
    static func validateFilter(_ filter: String) throws(TopicRefusal) {
        do {
            try Topic.validateFilter(filter)
        } catch {
            throw .invalid(error)
        }
        if let problem = depthProblem(filter) { throw .tooDeep(problem) }
    }
}
