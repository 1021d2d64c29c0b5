import MQTT

/// The `$SYS/broker/...` topics, named and formatted as Mosquitto publishes
/// them, so that dashboards made for Mosquitto read ours too.
enum SystemTopics {
    /// The retained messages describing the broker now.
    static func messages(for status: BrokerStatus) -> [MQTTMessage] {
        let values: [(String, String)] = [
            ("version", "homerules version \(MQTTBroker.version)"),
            ("uptime", "\(status.uptimeSeconds) seconds"),
            ("clients/connected", "\(status.clientsConnected)"),
            ("clients/active", "\(status.clientsConnected)"),
            ("clients/disconnected", "\(status.clientsTotal - status.clientsConnected)"),
            ("clients/inactive", "\(status.clientsTotal - status.clientsConnected)"),
            ("clients/total", "\(status.clientsTotal)"),
            ("clients/maximum", "\(status.clientsMaximum)"),
            ("clients/held back", "\(status.heldBackConnections)"),
            ("clients/slow consumers", "\(status.slowConsumers)"),
            ("messages/received", "\(status.packetsReceived)"),
            ("messages/sent", "\(status.packetsSent)"),
            ("publish/messages/received", "\(status.publishReceived)"),
            ("publish/messages/sent", "\(status.publishSent)"),
            ("publish/messages/dropped", "\(status.droppedMessages)"),
            ("bytes/received", "\(status.bytesReceived)"),
            ("bytes/sent", "\(status.bytesSent)"),
            ("retained messages/count", "\(status.retainedMessages)"),
            ("subscriptions/count", "\(status.subscriptions)"),
        ]
        return values.map { MQTTMessage(topic: "$SYS/broker/" + $0.0, payload: $0.1, qos: .atMostOnce, retain: true) }
    }
}
