import MQTT

/// The encoded size of the packets whose size depends on the caller's input,
/// so that an oversized one is refused before it reaches the encoder: an
/// encoding error there would close the whole connection.
enum PacketSize {
    static func publish(topic: String, payloadBytes: Int, qos: QoS) -> Int {
        withFixedHeader(body: 2 + topic.utf8.count + (qos == .atMostOnce ? 0 : 2) + payloadBytes)
    }

    static func subscribe(_ filters: [TopicSubscription]) -> Int {
        withFixedHeader(body: 2 + filters.reduce(0) { $0 + 2 + $1.filter.utf8.count + 1 })
    }

    /// One type byte and one to four bytes of remaining length (§2.2.3).
    private static func withFixedHeader(body: Int) -> Int {
        var lengthBytes = 1
        var remaining = body >> 7
        while remaining > 0 {
            lengthBytes += 1
            remaining >>= 7
        }
        return 1 + lengthBytes + body
    }
}
