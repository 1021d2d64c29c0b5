import NIOCore

extension ByteBuffer {
    /// Appends the wire form of `packet`. On error nothing is written.
    public mutating func writeMQTTPacket(_ packet: Packet) throws(MQTTProtocolError) {
        let bodyLength = try packet.encodedBodyLength()
        guard bodyLength <= FixedHeader.maximumRemainingLength else { throw .bodyTooLong(bodyLength) }
        let type = packet.type
        let flags: UInt8
        if case .publish(let publish) = packet { flags = publish.flags } else { flags = type.requiredFlags ?? 0 }
        writeInteger(type.rawValue << 4 | flags)
        writeRemainingLength(bodyLength)
        // Lengths were checked above, so the writes below cannot fail.
        try packet.writeBody(into: &self)
    }
}

private func stringLength(_ string: String) throws(MQTTProtocolError) -> Int {
    let length = string.utf8.count
    guard length <= Int(UInt16.max) else { throw .stringTooLong(length) }
    return 2 + length
}

private func binaryLength(_ bytes: ByteBuffer) throws(MQTTProtocolError) -> Int {
    guard bytes.readableBytes <= Int(UInt16.max) else { throw .stringTooLong(bytes.readableBytes) }
    return 2 + bytes.readableBytes
}

extension Packet {
    func encodedBodyLength() throws(MQTTProtocolError) -> Int {
        switch self {
        case .connect(let connect):
            var length = try stringLength(connect.protocolVersion.protocolName) + 4 + stringLength(connect.clientID)
            if let will = connect.will { length += try stringLength(will.topic) + binaryLength(will.payload) }
            if let username = connect.username { length += try stringLength(username) }
            if let password = connect.password { length += try binaryLength(password) }
            return length
        case .connack, .puback, .pubrec, .pubrel, .pubcomp, .unsuback:
            return 2
        case .publish(let publish):
            return try stringLength(publish.topic) + (publish.qos == .atMostOnce ? 0 : 2) + publish.payload.readableBytes
        case .subscribe(let subscribe):
            var length = 2
            for subscription in subscribe.subscriptions { length += try stringLength(subscription.filter) + 1 }
            return length
        case .suback(let suback):
            return 2 + suback.returnCodes.count
        case .unsubscribe(let unsubscribe):
            var length = 2
            for filter in unsubscribe.filters { length += try stringLength(filter) }
            return length
        case .pingreq, .pingresp, .disconnect:
            return 0
        }
    }

    func writeBody(into buffer: inout ByteBuffer) throws(MQTTProtocolError) {
        switch self {
        case .connect(let connect):
            try buffer.writeMQTTString(connect.protocolVersion.protocolName)
            buffer.writeInteger(connect.protocolVersion.rawValue)
            buffer.writeInteger(connect.flagsByte)
            buffer.writeInteger(connect.keepAlive)
            try buffer.writeMQTTString(connect.clientID)
            if let will = connect.will {
                try buffer.writeMQTTString(will.topic)
                try buffer.writeMQTTBinary(will.payload)
            }
            if let username = connect.username { try buffer.writeMQTTString(username) }
            if let password = connect.password { try buffer.writeMQTTBinary(password) }
        case .connack(let connack):
            buffer.writeInteger(UInt8(connack.sessionPresent ? 1 : 0))
            buffer.writeInteger(connack.returnCode.rawValue)
        case .publish(let publish):
            try buffer.writeMQTTString(publish.topic)
            if publish.qos != .atMostOnce { buffer.writeInteger(publish.packetID) }
            buffer.writeImmutableBuffer(publish.payload)
        case .puback(let ack), .pubrec(let ack), .pubrel(let ack), .pubcomp(let ack), .unsuback(let ack):
            buffer.writeInteger(ack.packetID)
        case .subscribe(let subscribe):
            buffer.writeInteger(subscribe.packetID)
            for subscription in subscribe.subscriptions {
                try buffer.writeMQTTString(subscription.filter)
                buffer.writeInteger(subscription.qos.rawValue)
            }
        case .suback(let suback):
            buffer.writeInteger(suback.packetID)
            for code in suback.returnCodes { buffer.writeInteger(code.rawValue) }
        case .unsubscribe(let unsubscribe):
            buffer.writeInteger(unsubscribe.packetID)
            for filter in unsubscribe.filters { try buffer.writeMQTTString(filter) }
        case .pingreq, .pingresp, .disconnect:
            break
        }
    }
}
