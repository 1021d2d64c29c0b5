import NIOCore

extension Packet {
    /// Decodes one packet body whose fixed header has been read.
    ///
    /// `body` holds exactly the remaining length; every byte must belong to a
    /// field. Pure: no state beyond its arguments.
    static func decode(header: FixedHeader, body: inout ByteBuffer) throws(MQTTProtocolError) -> Packet {
        let type = header.type
        let packet: Packet
        switch type {
        case .connect: packet = .connect(try ConnectPacket.decode(flags: header.flags, &body))
        case .connack: packet = .connack(try ConnAckPacket.decode(&body))
        case .publish: packet = .publish(try PublishPacket.decode(flags: header.flags, &body))
        case .puback: packet = .puback(try AckPacket.decode(type, &body))
        case .pubrec: packet = .pubrec(try AckPacket.decode(type, &body))
        case .pubrel: packet = .pubrel(try AckPacket.decode(type, &body))
        case .pubcomp: packet = .pubcomp(try AckPacket.decode(type, &body))
        case .subscribe: packet = .subscribe(try SubscribePacket.decode(&body))
        case .suback: packet = .suback(try SubAckPacket.decode(&body))
        case .unsubscribe: packet = .unsubscribe(try UnsubscribePacket.decode(&body))
        case .unsuback: packet = .unsuback(try AckPacket.decode(type, &body))
        case .pingreq: packet = .pingreq
        case .pingresp: packet = .pingresp
        case .disconnect: packet = .disconnect(DisconnectPacket())
        }
        guard body.readableBytes == 0 else { throw .trailingBytes(type) }
        try packet.validate()
        return packet
    }
}

extension ConnectPacket {
    private enum Flag {
        static let reserved: UInt8 = 0x01
        static let cleanSession: UInt8 = 0x02
        static let will: UInt8 = 0x04
        static let willQoSShift: UInt8 = 3
        static let willRetain: UInt8 = 0x20
        static let password: UInt8 = 0x40
        static let username: UInt8 = 0x80
    }

    /// Decodes a CONNECT body; `headerFlags` are the fixed header's.
    ///
    /// MQTT 3.1 leaves the fixed header flags, the reserved CONNECT flag and
    /// the will QoS and retain of a CONNECT without will unspecified, where
    /// 3.1.1 requires zeros. Like Mosquitto, we check them for 3.1.1 only.
    static func decode(flags headerFlags: UInt8, _ body: inout ByteBuffer) throws(MQTTProtocolError) -> ConnectPacket {
        let name = try body.readMQTTString(in: .connect)
        guard let level = body.readInteger(as: UInt8.self) else { throw .truncated(.connect) }
        guard name == "MQTT" || name == "MQIsdp" else { throw .unknownProtocolName(name) }
        guard let version = ProtocolVersion(rawValue: level), version.protocolName == name else {
            throw .unsupportedProtocolLevel(level)
        }
        let isStrict = version != .v3_1
        if isStrict, headerFlags != PacketType.connect.requiredFlags {
            throw .invalidFlags(.connect, headerFlags)
        }
        guard let flags = body.readInteger(as: UInt8.self),
              let keepAlive = body.readInteger(as: UInt16.self)
        else { throw .truncated(.connect) }
        if isStrict, flags & Flag.reserved != 0 { throw .reservedBitsSet(.connect) }

        let hasWill = flags & Flag.will != 0
        guard let willQoS = QoS(rawValue: (flags >> Flag.willQoSShift) & 0x03) else { throw .invalidQoS(.connect) }
        let willRetain = flags & Flag.willRetain != 0
        if isStrict, !hasWill, willQoS != .atMostOnce || willRetain { throw .inconsistentConnectFlags }

        let clientID = try body.readMQTTString(in: .connect)
        var will: Will?
        if hasWill {
            let topic = try body.readMQTTString(in: .connect)
            let payload = try body.readMQTTBinary(in: .connect)
            will = Will(topic: topic, payload: payload, qos: willQoS, retain: willRetain)
        }
        let username = flags & Flag.username != 0 ? try body.readMQTTString(in: .connect) : nil
        let password = flags & Flag.password != 0 ? try body.readMQTTBinary(in: .connect) : nil
        return ConnectPacket(
            protocolVersion: version, clientID: clientID, cleanSession: flags & Flag.cleanSession != 0,
            keepAlive: keepAlive, will: will, username: username, password: password)
    }

    var flagsByte: UInt8 {
        var flags: UInt8 = 0
        if cleanSession { flags |= Flag.cleanSession }
        if let will {
            flags |= Flag.will | (will.qos.rawValue << Flag.willQoSShift)
            if will.retain { flags |= Flag.willRetain }
        }
        if username != nil { flags |= Flag.username }
        if password != nil { flags |= Flag.password }
        return flags
    }
}

extension ConnAckPacket {
    static func decode(_ body: inout ByteBuffer) throws(MQTTProtocolError) -> ConnAckPacket {
        guard let flags = body.readInteger(as: UInt8.self),
              let code = body.readInteger(as: UInt8.self)
        else { throw .truncated(.connack) }
        if flags & 0xFE != 0 { throw .reservedBitsSet(.connack) }
        return ConnAckPacket(sessionPresent: flags & 0x01 != 0, returnCode: ConnectReturnCode(rawValue: code))
    }
}

extension PublishPacket {
    private enum Flag {
        static let dup: UInt8 = 0x08
        static let qosShift: UInt8 = 1
        static let retain: UInt8 = 0x01
    }

    static func decode(flags: UInt8, _ body: inout ByteBuffer) throws(MQTTProtocolError) -> PublishPacket {
        guard let qos = QoS(rawValue: (flags >> Flag.qosShift) & 0x03) else { throw .invalidQoS(.publish) }
        let topic = try body.readMQTTString(in: .publish)
        let packetID = qos == .atMostOnce ? 0 : try body.readPacketID(in: .publish)
        let payload = body.readOwnedBuffer(length: body.readableBytes)!
        return PublishPacket(
            topic: topic, payload: payload, qos: qos,
            retain: flags & Flag.retain != 0, dup: flags & Flag.dup != 0, packetID: packetID)
    }

    var flags: UInt8 {
        (dup ? Flag.dup : 0) | (qos.rawValue << Flag.qosShift) | (retain ? Flag.retain : 0)
    }
}

extension AckPacket {
    static func decode(_ type: PacketType, _ body: inout ByteBuffer) throws(MQTTProtocolError) -> AckPacket {
        AckPacket(packetID: try body.readPacketID(in: type))
    }
}

extension SubscribePacket {
    static func decode(_ body: inout ByteBuffer) throws(MQTTProtocolError) -> SubscribePacket {
        let packetID = try body.readPacketID(in: .subscribe)
        var subscriptions: [TopicSubscription] = []
        while body.readableBytes > 0 {
            let filter = try body.readMQTTString(in: .subscribe)
            guard let options = body.readInteger(as: UInt8.self) else { throw .truncated(.subscribe) }
            if options & 0xFC != 0 { throw .reservedBitsSet(.subscribe) }
            guard let qos = QoS(rawValue: options) else { throw .invalidQoS(.subscribe) }
            subscriptions.append(TopicSubscription(filter: filter, qos: qos))
        }
        return SubscribePacket(packetID: packetID, subscriptions: subscriptions)
    }
}

extension SubAckPacket {
    static func decode(_ body: inout ByteBuffer) throws(MQTTProtocolError) -> SubAckPacket {
        let packetID = try body.readPacketID(in: .suback)
        var codes: [SubscribeReturnCode] = []
        while let raw = body.readInteger(as: UInt8.self) {
            codes.append(SubscribeReturnCode(rawValue: raw))
        }
        return SubAckPacket(packetID: packetID, returnCodes: codes)
    }
}

extension UnsubscribePacket {
    static func decode(_ body: inout ByteBuffer) throws(MQTTProtocolError) -> UnsubscribePacket {
        let packetID = try body.readPacketID(in: .unsubscribe)
        var filters: [String] = []
        while body.readableBytes > 0 {
            filters.append(try body.readMQTTString(in: .unsubscribe))
        }
        return UnsubscribePacket(packetID: packetID, filters: filters)
    }
}
