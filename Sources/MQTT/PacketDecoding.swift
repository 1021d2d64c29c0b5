import NIOCore

extension Packet {
    /// Decodes one packet body whose fixed header has been read.
    ///
    /// `body` holds exactly the remaining length; every byte must belong to a
    /// field. `version` is the connection's, which shapes every body but
    /// CONNECT's: CONNECT names its own, and is refused unless that is one of
    /// `supportedVersions`. Pure: no state beyond its arguments.
    static func decode(
        header: FixedHeader, body: inout ByteBuffer, version: ProtocolVersion,
        supportedVersions: Set<ProtocolVersion>
    ) throws(MQTTProtocolError) -> Packet {
        let type = header.type
        let isV5 = version == .v5
        let packet: Packet
        switch type {
        case .connect:
            packet = .connect(try ConnectPacket.decode(flags: header.flags, &body, supportedVersions: supportedVersions))
        case .connack: packet = .connack(try ConnAckPacket.decode(&body, isV5: isV5))
        case .publish: packet = .publish(try PublishPacket.decode(flags: header.flags, &body, isV5: isV5))
        case .puback: packet = .puback(try AckPacket.decode(type, &body, isV5: isV5))
        case .pubrec: packet = .pubrec(try AckPacket.decode(type, &body, isV5: isV5))
        case .pubrel: packet = .pubrel(try AckPacket.decode(type, &body, isV5: isV5))
        case .pubcomp: packet = .pubcomp(try AckPacket.decode(type, &body, isV5: isV5))
        case .subscribe: packet = .subscribe(try SubscribePacket.decode(&body, isV5: isV5))
        case .suback: packet = .suback(try SubAckPacket.decode(&body, isV5: isV5))
        case .unsubscribe: packet = .unsubscribe(try UnsubscribePacket.decode(&body, isV5: isV5))
        case .unsuback: packet = .unsuback(try AckPacket.decodeUnsubAck(&body, isV5: isV5))
        case .pingreq: packet = .pingreq
        case .pingresp: packet = .pingresp
        case .disconnect:
            let (reasonCode, properties) = isV5 ? try Self.decodeOptionalReason(type, &body) : (.success, Properties())
            packet = .disconnect(DisconnectPacket(reasonCode: reasonCode, properties: properties))
        case .auth:
            let (reasonCode, properties) = try Self.decodeOptionalReason(type, &body)
            packet = .auth(AuthPacket(reasonCode: reasonCode, properties: properties))
        }
        guard body.readableBytes == 0 else { throw .trailingBytes(type) }
        try packet.validate(version: packet.bodyVersion(connection: version))
        return packet
    }

    /// The reason code and properties that MQTT 5 lets a sender leave out
    /// when they are Success and none (§3.4.2.1, §3.14.2.1, §3.15.2.1).
    static func decodeOptionalReason(
        _ type: PacketType, _ body: inout ByteBuffer
    ) throws(MQTTProtocolError) -> (MQTTReasonCode, Properties) {
        guard let code = body.readInteger(as: UInt8.self) else { return (.success, Properties()) }
        let properties = body.readableBytes > 0 ? try Properties.read(from: &body, in: .packet(type)) : Properties()
        return (MQTTReasonCode(rawValue: code), properties)
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
    ///
    /// A level outside `supportedVersions` is refused before anything after
    /// it is read, so that a server can answer it even when the rest is
    /// what that level would make of it.
    static func decode(
        flags headerFlags: UInt8, _ body: inout ByteBuffer, supportedVersions: Set<ProtocolVersion>
    ) throws(MQTTProtocolError) -> ConnectPacket {
        let name = try body.readMQTTString(in: .connect)
        guard let level = body.readInteger(as: UInt8.self) else { throw .truncated(.connect) }
        guard name == "MQTT" || name == "MQIsdp" else { throw .unknownProtocolName(name) }
        guard let version = ProtocolVersion(rawValue: level), version.protocolName == name,
              supportedVersions.contains(version)
        else {
            throw .unsupportedProtocolLevel(level)
        }
        let isV5 = version == .v5
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

        let properties = isV5 ? try Properties.read(from: &body, in: .packet(.connect)) : Properties()
        let clientID = try body.readMQTTString(in: .connect)
        var will: Will?
        if hasWill {
            let willProperties = isV5 ? try Properties.read(from: &body, in: .will) : Properties()
            let topic = try body.readMQTTString(in: .connect)
            let payload = try body.readMQTTBinary(in: .connect)
            will = Will(topic: topic, payload: payload, qos: willQoS, retain: willRetain, properties: willProperties)
        }
        let username = flags & Flag.username != 0 ? try body.readMQTTString(in: .connect) : nil
        let password = flags & Flag.password != 0 ? try body.readMQTTBinary(in: .connect) : nil
        return ConnectPacket(
            protocolVersion: version, clientID: clientID, cleanSession: flags & Flag.cleanSession != 0,
            keepAlive: keepAlive, will: will, username: username, password: password, properties: properties)
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
    static func decode(_ body: inout ByteBuffer, isV5: Bool) throws(MQTTProtocolError) -> ConnAckPacket {
        guard let flags = body.readInteger(as: UInt8.self),
              let code = body.readInteger(as: UInt8.self)
        else { throw .truncated(.connack) }
        if flags & 0xFE != 0 { throw .reservedBitsSet(.connack) }
        let properties = isV5 ? try Properties.read(from: &body, in: .packet(.connack)) : Properties()
        return ConnAckPacket(
            sessionPresent: flags & 0x01 != 0, returnCode: ConnectReturnCode(rawValue: code), properties: properties)
    }
}

extension PublishPacket {
    private enum Flag {
        static let dup: UInt8 = 0x08
        static let qosShift: UInt8 = 1
        static let retain: UInt8 = 0x01
    }

    static func decode(flags: UInt8, _ body: inout ByteBuffer, isV5: Bool) throws(MQTTProtocolError) -> PublishPacket {
        guard let qos = QoS(rawValue: (flags >> Flag.qosShift) & 0x03) else { throw .invalidQoS(.publish) }
        let topic = try body.readMQTTString(in: .publish)
        let packetID = qos == .atMostOnce ? 0 : try body.readPacketID(in: .publish)
        let properties = isV5 ? try Properties.read(from: &body, in: .packet(.publish)) : Properties()
        let payload = body.readOwnedBuffer(length: body.readableBytes)!
        return PublishPacket(
            topic: topic, payload: payload, qos: qos,
            retain: flags & Flag.retain != 0, dup: flags & Flag.dup != 0, packetID: packetID, properties: properties)
    }

    var flags: UInt8 {
        (dup ? Flag.dup : 0) | (qos.rawValue << Flag.qosShift) | (retain ? Flag.retain : 0)
    }
}

extension AckPacket {
    /// PUBACK, PUBREC, PUBREL or PUBCOMP.
    static func decode(_ type: PacketType, _ body: inout ByteBuffer, isV5: Bool) throws(MQTTProtocolError) -> AckPacket {
        let packetID = try body.readPacketID(in: type)
        guard isV5 else { return AckPacket(packetID: packetID) }
        let (reasonCode, properties) = try Packet.decodeOptionalReason(type, &body)
        return AckPacket(packetID: packetID, reasonCode: reasonCode, properties: properties)
    }

    static func decodeUnsubAck(_ body: inout ByteBuffer, isV5: Bool) throws(MQTTProtocolError) -> AckPacket {
        let packetID = try body.readPacketID(in: .unsuback)
        guard isV5 else { return AckPacket(packetID: packetID) }
        let properties = try Properties.read(from: &body, in: .packet(.unsuback))
        var codes: [MQTTReasonCode] = []
        while let raw = body.readInteger(as: UInt8.self) { codes.append(MQTTReasonCode(rawValue: raw)) }
        return AckPacket(packetID: packetID, reasonCodes: codes, properties: properties)
    }
}

extension TopicSubscription {
    private enum Option {
        static let qos: UInt8 = 0x03
        static let noLocal: UInt8 = 0x04
        static let retainAsPublished: UInt8 = 0x08
        static let retainHandlingShift: UInt8 = 4
        static let reservedV5: UInt8 = 0xC0
        static let reservedV3: UInt8 = 0xFC
    }

    /// Reads a filter and its options byte: the QoS alone in 3.1.1, with
    /// No Local, Retain As Published and Retain Handling in MQTT 5 (§3.8.3.1).
    static func decode(_ body: inout ByteBuffer, isV5: Bool) throws(MQTTProtocolError) -> TopicSubscription {
        let filter = try body.readMQTTString(in: .subscribe)
        guard let options = body.readInteger(as: UInt8.self) else { throw .truncated(.subscribe) }
        if options & (isV5 ? Option.reservedV5 : Option.reservedV3) != 0 { throw .reservedBitsSet(.subscribe) }
        guard let qos = QoS(rawValue: options & Option.qos) else { throw .invalidQoS(.subscribe) }
        let rawRetainHandling = options >> Option.retainHandlingShift
        guard let retainHandling = RetainHandling(rawValue: rawRetainHandling) else {
            throw .invalidRetainHandling(rawRetainHandling)
        }
        return TopicSubscription(
            filter: filter, qos: qos, noLocal: options & Option.noLocal != 0,
            retainAsPublished: options & Option.retainAsPublished != 0, retainHandling: retainHandling)
    }

    var optionsByte: UInt8 {
        qos.rawValue | (noLocal ? Option.noLocal : 0) | (retainAsPublished ? Option.retainAsPublished : 0)
            | retainHandling.rawValue << Option.retainHandlingShift
    }
}

extension SubscribePacket {
    static func decode(_ body: inout ByteBuffer, isV5: Bool) throws(MQTTProtocolError) -> SubscribePacket {
        let packetID = try body.readPacketID(in: .subscribe)
        let properties = isV5 ? try Properties.read(from: &body, in: .packet(.subscribe)) : Properties()
        var subscriptions: [TopicSubscription] = []
        while body.readableBytes > 0 {
            subscriptions.append(try TopicSubscription.decode(&body, isV5: isV5))
        }
        return SubscribePacket(packetID: packetID, subscriptions: subscriptions, properties: properties)
    }
}

extension SubAckPacket {
    static func decode(_ body: inout ByteBuffer, isV5: Bool) throws(MQTTProtocolError) -> SubAckPacket {
        let packetID = try body.readPacketID(in: .suback)
        let properties = isV5 ? try Properties.read(from: &body, in: .packet(.suback)) : Properties()
        var codes: [SubscribeReturnCode] = []
        while let raw = body.readInteger(as: UInt8.self) {
            codes.append(SubscribeReturnCode(rawValue: raw))
        }
        return SubAckPacket(packetID: packetID, returnCodes: codes, properties: properties)
    }
}

extension UnsubscribePacket {
    static func decode(_ body: inout ByteBuffer, isV5: Bool) throws(MQTTProtocolError) -> UnsubscribePacket {
        let packetID = try body.readPacketID(in: .unsubscribe)
        let properties = isV5 ? try Properties.read(from: &body, in: .packet(.unsubscribe)) : Properties()
        var filters: [String] = []
        while body.readableBytes > 0 {
            filters.append(try body.readMQTTString(in: .unsubscribe))
        }
        return UnsubscribePacket(packetID: packetID, filters: filters, properties: properties)
    }
}
