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

    init(_ publish: PublishPacket) throws(MQTTProtocolError) {
        let sharesPayload = publish.payload.readableBytes >= Self.sharedPayloadSize
        // Sized once: fixed header (at most 5), topic and its length, packet id, payload.
        let size = 9 + publish.topic.utf8.count + (sharesPayload ? 0 : publish.payload.readableBytes)
        head = ByteBufferAllocator().buffer(capacity: size)
        if sharesPayload {
            try head.writeMQTTPublishHeader(publish)
            sharedPayload = publish.payload
        } else {
            try head.writeMQTTPacket(.publish(publish))
        }
    }

    var byteCount: Int { head.readableBytes + (sharedPayload?.readableBytes ?? 0) }
}
