import NIOCore

extension ByteBuffer {
    /// Appends the wire form of `packet`.
    ///
    /// Throws, writing nothing, for a packet that the decoder would refuse
    /// (a zero packet identifier, a wildcard in a topic name, U+0000 in a
    /// string, a password without user name...) or that cannot be encoded
    /// (a string over 65,535 bytes, a body over 268,435,455). The packet
    /// identifier of a QoS 0 PUBLISH is not written, whatever its value.
    public mutating func writeMQTTPacket(_ packet: Packet) throws(MQTTProtocolError) {
        try writeFixedHeader(of: packet)
        packet.writeBody(into: &self)
    }

    /// Appends a PUBLISH up to its payload, which the caller writes right
    /// after: a large payload then leaves from the buffer that holds it
    /// instead of being copied into every packet that carries it.
    public mutating func writeMQTTPublishHeader(_ publish: PublishPacket) throws(MQTTProtocolError) {
        try writeFixedHeader(of: .publish(publish))
        writePublishVariableHeader(publish)
    }

    private mutating func writeFixedHeader(of packet: Packet) throws(MQTTProtocolError) {
        try packet.validate()
        let bodyLength = try packet.encodedBodyLength()
        guard bodyLength <= FixedHeader.maximumRemainingLength else { throw .bodyTooLong(bodyLength) }
        let flags: UInt8
        if case .publish(let publish) = packet { flags = publish.flags } else { flags = packet.type.requiredFlags ?? 0 }
        writeInteger(packet.type.rawValue << 4 | flags)
        writeRemainingLength(bodyLength)
    }

    fileprivate mutating func writePublishVariableHeader(_ publish: PublishPacket) {
        writeMQTTString(publish.topic)
        if publish.qos != .atMostOnce { writeInteger(publish.packetID) }
    }
}

extension Packet {
    /// The remaining length; checks every string and binary field on the way,
    /// so that `writeBody` cannot fail.
    func encodedBodyLength() throws(MQTTProtocolError) -> Int {
        let type = self.type
        switch self {
        case .connect(let connect):
            var length = try MQTTString.encodedLength(connect.protocolVersion.protocolName, in: type) + 4
            length += try MQTTString.encodedLength(connect.clientID, in: type)
            if let will = connect.will {
                length += try MQTTString.encodedLength(will.topic, in: type) + MQTTString.encodedLength(will.payload)
            }
            if let username = connect.username { length += try MQTTString.encodedLength(username, in: type) }
            if let password = connect.password { length += try MQTTString.encodedLength(password) }
            return length
        case .connack, .puback, .pubrec, .pubrel, .pubcomp, .unsuback:
            return 2
        case .publish(let publish):
            let packetIDLength = publish.qos == .atMostOnce ? 0 : 2
            return try MQTTString.encodedLength(publish.topic, in: type) + packetIDLength + publish.payload.readableBytes
        case .subscribe(let subscribe):
            var length = 2
            for subscription in subscribe.subscriptions {
                length += try MQTTString.encodedLength(subscription.filter, in: type) + 1
            }
            return length
        case .suback(let suback):
            return 2 + suback.returnCodes.count
        case .unsubscribe(let unsubscribe):
            var length = 2
            for filter in unsubscribe.filters { length += try MQTTString.encodedLength(filter, in: type) }
            return length
        case .pingreq, .pingresp, .disconnect:
            return 0
        }
    }

    func writeBody(into buffer: inout ByteBuffer) {
        switch self {
        case .connect(let connect):
            buffer.writeMQTTString(connect.protocolVersion.protocolName)
            buffer.writeInteger(connect.protocolVersion.rawValue)
            buffer.writeInteger(connect.flagsByte)
            buffer.writeInteger(connect.keepAlive)
            buffer.writeMQTTString(connect.clientID)
            if let will = connect.will {
                buffer.writeMQTTString(will.topic)
                buffer.writeMQTTBinary(will.payload)
            }
            if let username = connect.username { buffer.writeMQTTString(username) }
            if let password = connect.password { buffer.writeMQTTBinary(password) }
        case .connack(let connack):
            buffer.writeInteger(UInt8(connack.sessionPresent ? 1 : 0))
            buffer.writeInteger(connack.returnCode.rawValue)
        case .publish(let publish):
            buffer.writePublishVariableHeader(publish)
            buffer.writeImmutableBuffer(publish.payload)
        case .puback(let ack), .pubrec(let ack), .pubrel(let ack), .pubcomp(let ack), .unsuback(let ack):
            buffer.writeInteger(ack.packetID)
        case .subscribe(let subscribe):
            buffer.writeInteger(subscribe.packetID)
            for subscription in subscribe.subscriptions {
                buffer.writeMQTTString(subscription.filter)
                buffer.writeInteger(subscription.qos.rawValue)
            }
        case .suback(let suback):
            buffer.writeInteger(suback.packetID)
            for code in suback.returnCodes { buffer.writeInteger(code.rawValue) }
        case .unsubscribe(let unsubscribe):
            buffer.writeInteger(unsubscribe.packetID)
            for filter in unsubscribe.filters { buffer.writeMQTTString(filter) }
        case .pingreq, .pingresp, .disconnect:
            break
        }
    }
}
