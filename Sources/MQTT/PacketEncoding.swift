import NIOCore

extension ByteBuffer {
    /// Appends the wire form of `packet` in the connection's `version`.
    ///
    /// The version shapes every body but CONNECT's, which is written in the
    /// version it names; MQTT 3.1 and 3.1.1 write the same bytes. Throws,
    /// writing nothing, for a packet that the decoder would refuse (a zero
    /// packet identifier, a wildcard in a topic name, U+0000 in a string, a
    /// password without user name before MQTT 5, a property the packet
    /// cannot carry...), for one that carries MQTT 5 fields to be written in
    /// 3.1.1 (`requiresMQTT5`), or for one that cannot be encoded (a string
    /// over 65,535 bytes, a body over 268,435,455). The packet identifier of
    /// a QoS 0 PUBLISH is not written, whatever its value.
    public mutating func writeMQTTPacket(_ packet: Packet, version: ProtocolVersion = .v3_1_1) throws(MQTTProtocolError) {
        let version = packet.bodyVersion(connection: version)
        try writeFixedHeader(of: packet, version: version)
        packet.writeBody(into: &self, isV5: version == .v5)
    }

    /// Appends a PUBLISH up to its payload, which the caller writes right
    /// after: a large payload then leaves from the buffer that holds it
    /// instead of being copied into every packet that carries it.
    public mutating func writeMQTTPublishHeader(
        _ publish: PublishPacket, version: ProtocolVersion = .v3_1_1
    ) throws(MQTTProtocolError) {
        try writeFixedHeader(of: .publish(publish), version: version)
        writePublishVariableHeader(publish, isV5: version == .v5)
    }

    private mutating func writeFixedHeader(of packet: Packet, version: ProtocolVersion) throws(MQTTProtocolError) {
        try packet.validate(version: version)
        let bodyLength = try packet.encodedBodyLength(isV5: version == .v5)
        guard bodyLength <= FixedHeader.maximumRemainingLength else { throw .bodyTooLong(bodyLength) }
        let flags: UInt8
        if case .publish(let publish) = packet { flags = publish.flags } else { flags = packet.type.requiredFlags ?? 0 }
        writeInteger(packet.type.rawValue << 4 | flags)
        writeRemainingLength(bodyLength)
    }

    fileprivate mutating func writePublishVariableHeader(_ publish: PublishPacket, isV5: Bool) {
        writeMQTTString(publish.topic)
        if publish.qos != .atMostOnce { writeInteger(publish.packetID) }
        if isV5 { publish.properties.write(into: &self) }
    }
}

extension Packet {
    /// The version a body is written in: CONNECT's own, or the connection's.
    func bodyVersion(connection version: ProtocolVersion) -> ProtocolVersion {
        if case .connect(let connect) = self { connect.protocolVersion } else { version }
    }

    /// The remaining length; checks every string, binary field and property
    /// on the way, so that `writeBody` cannot fail.
    func encodedBodyLength(isV5: Bool) throws(MQTTProtocolError) -> Int {
        let type = self.type
        func propertiesLength(_ properties: Properties) throws(MQTTProtocolError) -> Int {
            isV5 ? try properties.encodedLength(in: .packet(type)) : 0
        }
        switch self {
        case .connect(let connect):
            var length = try MQTTString.encodedLength(connect.protocolVersion.protocolName, in: type) + 4
            length += try propertiesLength(connect.properties)
            length += try MQTTString.encodedLength(connect.clientID, in: type)
            if let will = connect.will {
                if isV5 { length += try will.properties.encodedLength(in: .will) }
                length += try MQTTString.encodedLength(will.topic, in: type) + MQTTString.encodedLength(will.payload)
            }
            if let username = connect.username { length += try MQTTString.encodedLength(username, in: type) }
            if let password = connect.password { length += try MQTTString.encodedLength(password) }
            return length
        case .connack(let connack):
            return try 2 + propertiesLength(connack.properties)
        case .puback(let ack), .pubrec(let ack), .pubrel(let ack), .pubcomp(let ack):
            return try 2 + optionalReasonLength(ack.reasonCode, ack.properties, isV5: isV5)
        case .unsuback(let ack):
            return try 2 + propertiesLength(ack.properties) + (isV5 ? ack.reasonCodes.count : 0)
        case .publish(let publish):
            let packetIDLength = publish.qos == .atMostOnce ? 0 : 2
            return try MQTTString.encodedLength(publish.topic, in: type) + packetIDLength
                + propertiesLength(publish.properties) + publish.payload.readableBytes
        case .subscribe(let subscribe):
            var length = try 2 + propertiesLength(subscribe.properties)
            for subscription in subscribe.subscriptions {
                length += try MQTTString.encodedLength(subscription.filter, in: type) + 1
            }
            return length
        case .suback(let suback):
            return try 2 + propertiesLength(suback.properties) + suback.returnCodes.count
        case .unsubscribe(let unsubscribe):
            var length = try 2 + propertiesLength(unsubscribe.properties)
            for filter in unsubscribe.filters { length += try MQTTString.encodedLength(filter, in: type) }
            return length
        case .disconnect(let disconnect):
            return try optionalReasonLength(disconnect.reasonCode, disconnect.properties, isV5: isV5)
        case .auth(let auth):
            return try optionalReasonLength(auth.reasonCode, auth.properties, isV5: isV5)
        case .pingreq, .pingresp:
            return 0
        }
    }

    /// The reason code and properties that MQTT 5 leaves out when they are
    /// Success and none: 0, 1, or 1 and the properties.
    private func optionalReasonLength(
        _ code: MQTTReasonCode, _ properties: Properties, isV5: Bool
    ) throws(MQTTProtocolError) -> Int {
        guard isV5 else { return 0 }
        if properties.isEmpty { return code == .success ? 0 : 1 }
        return try 1 + properties.encodedLength(in: .packet(type))
    }

    func writeBody(into buffer: inout ByteBuffer, isV5: Bool) {
        func writeProperties(_ properties: Properties) {
            if isV5 { properties.write(into: &buffer) }
        }
        switch self {
        case .connect(let connect):
            buffer.writeMQTTString(connect.protocolVersion.protocolName)
            buffer.writeInteger(connect.protocolVersion.rawValue)
            buffer.writeInteger(connect.flagsByte)
            buffer.writeInteger(connect.keepAlive)
            writeProperties(connect.properties)
            buffer.writeMQTTString(connect.clientID)
            if let will = connect.will {
                writeProperties(will.properties)
                buffer.writeMQTTString(will.topic)
                buffer.writeMQTTBinary(will.payload)
            }
            if let username = connect.username { buffer.writeMQTTString(username) }
            if let password = connect.password { buffer.writeMQTTBinary(password) }
        case .connack(let connack):
            buffer.writeInteger(UInt8(connack.sessionPresent ? 1 : 0))
            buffer.writeInteger(connack.returnCode.rawValue)
            writeProperties(connack.properties)
        case .publish(let publish):
            buffer.writePublishVariableHeader(publish, isV5: isV5)
            buffer.writeImmutableBuffer(publish.payload)
        case .puback(let ack), .pubrec(let ack), .pubrel(let ack), .pubcomp(let ack):
            buffer.writeInteger(ack.packetID)
            if isV5 { Self.writeOptionalReason(ack.reasonCode, ack.properties, into: &buffer) }
        case .unsuback(let ack):
            buffer.writeInteger(ack.packetID)
            writeProperties(ack.properties)
            if isV5 { for code in ack.reasonCodes { buffer.writeInteger(code.rawValue) } }
        case .subscribe(let subscribe):
            buffer.writeInteger(subscribe.packetID)
            writeProperties(subscribe.properties)
            for subscription in subscribe.subscriptions {
                buffer.writeMQTTString(subscription.filter)
                buffer.writeInteger(subscription.optionsByte)
            }
        case .suback(let suback):
            buffer.writeInteger(suback.packetID)
            writeProperties(suback.properties)
            for code in suback.returnCodes { buffer.writeInteger(code.rawValue) }
        case .unsubscribe(let unsubscribe):
            buffer.writeInteger(unsubscribe.packetID)
            writeProperties(unsubscribe.properties)
            for filter in unsubscribe.filters { buffer.writeMQTTString(filter) }
        case .disconnect(let disconnect):
            if isV5 { Self.writeOptionalReason(disconnect.reasonCode, disconnect.properties, into: &buffer) }
        case .auth(let auth):
            Self.writeOptionalReason(auth.reasonCode, auth.properties, into: &buffer)
        case .pingreq, .pingresp:
            break
        }
    }

    private static func writeOptionalReason(_ code: MQTTReasonCode, _ properties: Properties, into buffer: inout ByteBuffer) {
        if properties.isEmpty && code == .success { return }
        buffer.writeInteger(code.rawValue)
        if !properties.isEmpty { properties.write(into: &buffer) }
    }
}

extension Packet {
    /// The bytes the packet takes on the wire in `version`, fixed header
    /// included: what a peer's Maximum Packet Size is compared with.
    public func encodedSize(version: ProtocolVersion) throws(MQTTProtocolError) -> Int {
        let body = try encodedBodyLength(isV5: bodyVersion(connection: version) == .v5)
        return 1 + VariableByteInteger.encodedLength(body) + body
    }
}
