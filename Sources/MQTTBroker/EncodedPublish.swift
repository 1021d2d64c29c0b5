import MQTT
import NIOCore

/// A PUBLISH ready for the socket. A large payload stays apart from the
/// header and leaves from the buffer that the message already holds, so a
/// payload queued for many clients, or waiting in a socket's backlog, is in
/// memory once.
struct EncodedPublish {
    /// Payloads this large are not copied; smaller ones are, into one write.
    static let sharedPayloadSize = 1024

    /// The fixed and variable headers, and the payload unless it is shared.
    private(set) var head: ByteBuffer
    private(set) var sharedPayload: ByteBuffer?

    init(_ publish: PublishPacket, version: ProtocolVersion) throws(MQTTProtocolError) {
        let sharesPayload = publish.payload.readableBytes >= Self.sharedPayloadSize
        // Sized once: fixed header (at most 5), topic and its length, packet id, payload (and a few properties).
        let size = 9 + publish.topic.utf8.count + (sharesPayload ? 0 : publish.payload.readableBytes)
            + (publish.properties.isEmpty ? 0 : 32)
        head = ByteBufferAllocator().buffer(capacity: size)
        if sharesPayload {
            try head.writeMQTTPublishHeader(publish, version: version)
            sharedPayload = publish.payload
        } else {
            try head.writeMQTTPacket(.publish(publish), version: version)
        }
    }

    var byteCount: Int { head.readableBytes + (sharedPayload?.readableBytes ?? 0) }
}

/// The QoS 0 PUBLISH of one message, encoded at most once per protocol
/// version during a routing pass and shared by the subscribers that take it
/// as it is (no subscription identifier, no topic alias of their own).
struct SharedEncoding {
    private var mqtt3: EncodedPublish?
    private var mqtt5: EncodedPublish?

    /// The cached encoding for `version`, made by `encode` the first time.
    mutating func encoding(
        for version: ProtocolVersion, _ encode: () throws(MQTTProtocolError) -> EncodedPublish
    ) throws(MQTTProtocolError) -> EncodedPublish {
        if version == .v5 {
            if mqtt5 == nil { mqtt5 = try encode() }
            return mqtt5!
        }
        if mqtt3 == nil { mqtt3 = try encode() }
        return mqtt3!
    }
}
