import NIOCore

/// The wire value of one property, by the data type §2.2.2.2 gives it.
enum PropertyValue: Hashable {
    case byte(UInt8)
    case twoByteInteger(UInt16)
    case fourByteInteger(UInt32)
    case variableByteInteger(Int)
    case string(String)
    case binary(ByteBuffer)
    case stringPair(String, String)
}

extension PropertyIdentifier {
    /// Reads the value that follows the identifier, of the property's type.
    fileprivate func readValue(from buffer: inout ByteBuffer, in type: PacketType) throws(MQTTProtocolError) -> PropertyValue {
        switch self {
        case .payloadFormatIndicator, .requestProblemInformation, .requestResponseInformation, .maximumQoS,
             .retainAvailable, .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable,
             .sharedSubscriptionAvailable:
            guard let value = buffer.readInteger(as: UInt8.self) else { throw .truncated(type) }
            return .byte(value)
        case .serverKeepAlive, .receiveMaximum, .topicAliasMaximum, .topicAlias:
            guard let value = buffer.readInteger(as: UInt16.self) else { throw .truncated(type) }
            return .twoByteInteger(value)
        case .messageExpiryInterval, .sessionExpiryInterval, .willDelayInterval, .maximumPacketSize:
            guard let value = buffer.readInteger(as: UInt32.self) else { throw .truncated(type) }
            return .fourByteInteger(value)
        case .subscriptionIdentifier:
            return .variableByteInteger(try buffer.readVariableByteInteger(in: type))
        case .contentType, .responseTopic, .assignedClientIdentifier, .authenticationMethod,
             .responseInformation, .serverReference, .reasonString:
            return .string(try buffer.readMQTTString(in: type))
        case .correlationData, .authenticationData:
            return .binary(try buffer.readMQTTBinary(in: type))
        case .userProperty:
            let name = try buffer.readMQTTString(in: type)
            return .stringPair(name, try buffer.readMQTTString(in: type))
        }
    }

    /// Refuses values the specification rules out: a zero receive maximum,
    /// packet size, topic alias or subscription identifier, a flag other
    /// than 0 or 1, a maximum QoS of 2. All are Protocol Errors.
    fileprivate func check(_ value: PropertyValue, in type: PacketType) throws(MQTTProtocolError) {
        let isValid: Bool
        switch (self, value) {
        case (.receiveMaximum, .twoByteInteger(let value)), (.topicAlias, .twoByteInteger(let value)):
            isValid = value != 0
        case (.maximumPacketSize, .fourByteInteger(let value)):
            isValid = value != 0
        case (.subscriptionIdentifier, .variableByteInteger(let value)):
            isValid = 1...FixedHeader.maximumRemainingLength ~= value
        case (_, .byte(let value)):
            isValid = value <= 1
        default:
            isValid = true
        }
        if !isValid { throw .invalidPropertyValue(self, type) }
    }
}

extension Properties {
    /// The properties, each with its identifier, in the order they are
    /// written: ascending identifiers.
    var entries: [(PropertyIdentifier, PropertyValue)] { isEmpty ? [] : values.entries }
}

extension Properties.Values {
    var entries: [(PropertyIdentifier, PropertyValue)] {
        var entries: [(PropertyIdentifier, PropertyValue)] = []
        func add(_ id: PropertyIdentifier, _ value: PropertyValue?) {
            if let value { entries.append((id, value)) }
        }
        add(.payloadFormatIndicator, payloadFormatIndicator.map { .byte($0.rawValue) })
        add(.messageExpiryInterval, messageExpiryInterval.map { .fourByteInteger($0) })
        add(.contentType, contentType.map { .string($0) })
        add(.responseTopic, responseTopic.map { .string($0) })
        add(.correlationData, correlationData.map { .binary($0) })
        for identifier in subscriptionIdentifiers { add(.subscriptionIdentifier, .variableByteInteger(identifier)) }
        add(.sessionExpiryInterval, sessionExpiryInterval.map { .fourByteInteger($0) })
        add(.assignedClientIdentifier, assignedClientIdentifier.map { .string($0) })
        add(.serverKeepAlive, serverKeepAlive.map { .twoByteInteger($0) })
        add(.authenticationMethod, authenticationMethod.map { .string($0) })
        add(.authenticationData, authenticationData.map { .binary($0) })
        add(.requestProblemInformation, requestProblemInformation.map { .byte($0 ? 1 : 0) })
        add(.willDelayInterval, willDelayInterval.map { .fourByteInteger($0) })
        add(.requestResponseInformation, requestResponseInformation.map { .byte($0 ? 1 : 0) })
        add(.responseInformation, responseInformation.map { .string($0) })
        add(.serverReference, serverReference.map { .string($0) })
        add(.reasonString, reasonString.map { .string($0) })
        add(.receiveMaximum, receiveMaximum.map { .twoByteInteger($0) })
        add(.topicAliasMaximum, topicAliasMaximum.map { .twoByteInteger($0) })
        add(.topicAlias, topicAlias.map { .twoByteInteger($0) })
        add(.maximumQoS, maximumQoS.map { .byte($0.rawValue) })
        add(.retainAvailable, retainAvailable.map { .byte($0 ? 1 : 0) })
        for property in userProperties { add(.userProperty, .stringPair(property.name, property.value)) }
        add(.maximumPacketSize, maximumPacketSize.map { .fourByteInteger($0) })
        add(.wildcardSubscriptionAvailable, wildcardSubscriptionAvailable.map { .byte($0 ? 1 : 0) })
        add(.subscriptionIdentifierAvailable, subscriptionIdentifierAvailable.map { .byte($0 ? 1 : 0) })
        add(.sharedSubscriptionAvailable, sharedSubscriptionAvailable.map { .byte($0 ? 1 : 0) })
        return entries
    }

    /// Stores a value that `check` accepted in its field.
    fileprivate mutating func set(_ id: PropertyIdentifier, _ value: PropertyValue) {
        switch (id, value) {
        case (.payloadFormatIndicator, .byte(let value)): payloadFormatIndicator = PayloadFormat(rawValue: value)
        case (.messageExpiryInterval, .fourByteInteger(let value)): messageExpiryInterval = value
        case (.contentType, .string(let value)): contentType = value
        case (.responseTopic, .string(let value)): responseTopic = value
        case (.correlationData, .binary(let value)): correlationData = value
        case (.subscriptionIdentifier, .variableByteInteger(let value)): subscriptionIdentifiers.append(value)
        case (.sessionExpiryInterval, .fourByteInteger(let value)): sessionExpiryInterval = value
        case (.assignedClientIdentifier, .string(let value)): assignedClientIdentifier = value
        case (.serverKeepAlive, .twoByteInteger(let value)): serverKeepAlive = value
        case (.authenticationMethod, .string(let value)): authenticationMethod = value
        case (.authenticationData, .binary(let value)): authenticationData = value
        case (.requestProblemInformation, .byte(let value)): requestProblemInformation = value == 1
        case (.willDelayInterval, .fourByteInteger(let value)): willDelayInterval = value
        case (.requestResponseInformation, .byte(let value)): requestResponseInformation = value == 1
        case (.responseInformation, .string(let value)): responseInformation = value
        case (.serverReference, .string(let value)): serverReference = value
        case (.reasonString, .string(let value)): reasonString = value
        case (.receiveMaximum, .twoByteInteger(let value)): receiveMaximum = value
        case (.topicAliasMaximum, .twoByteInteger(let value)): topicAliasMaximum = value
        case (.topicAlias, .twoByteInteger(let value)): topicAlias = value
        case (.maximumQoS, .byte(let value)): maximumQoS = QoS(rawValue: value)
        case (.retainAvailable, .byte(let value)): retainAvailable = value == 1
        case (.userProperty, .stringPair(let name, let value)): userProperties.append(UserProperty(name: name, value: value))
        case (.maximumPacketSize, .fourByteInteger(let value)): maximumPacketSize = value
        case (.wildcardSubscriptionAvailable, .byte(let value)): wildcardSubscriptionAvailable = value == 1
        case (.subscriptionIdentifierAvailable, .byte(let value)): subscriptionIdentifierAvailable = value == 1
        case (.sharedSubscriptionAvailable, .byte(let value)): sharedSubscriptionAvailable = value == 1
        default: preconditionFailure("\(id) read as \(value)")
        }
    }
}

extension Properties {

    /// Reads a property length and the properties it spans (§2.2.2).
    ///
    /// A property the place does not allow, or an unknown identifier, is a
    /// Malformed Packet; one that appears twice where it may appear once, a
    /// value out of range, or authentication data without a method, a
    /// Protocol Error (`MQTTProtocolError.reasonCode`).
    static func read(from buffer: inout ByteBuffer, in place: PropertyPlace) throws(MQTTProtocolError) -> Properties {
        let type = place.packetType
        let length = try buffer.readVariableByteInteger(in: type)
        guard var bytes = buffer.readSlice(length: length) else { throw .truncated(type) }
        var values = Values()
        var seen: UInt64 = 0
        while bytes.readableBytes > 0 {
            // An identifier is a variable byte integer, though every one defined fits in a byte.
            let raw = try bytes.readVariableByteInteger(in: type)
            guard let id = UInt8(exactly: raw).flatMap(PropertyIdentifier.init(rawValue:)) else {
                throw .unknownProperty(raw, type)
            }
            guard id.isAllowed(in: place) else { throw .propertyNotAllowed(id, type) }
            let bit: UInt64 = 1 << id.rawValue
            if seen & bit != 0, !id.isRepeatable(in: place) { throw .duplicateProperty(id, type) }
            seen |= bit
            let value = try id.readValue(from: &bytes, in: type)
            try id.check(value, in: type)
            values.set(id, value)
        }
        let properties = Properties(values)
        try properties.checkAuthentication(in: type)
        return properties
    }

    /// Checks what `read` would refuse, and returns the encoded size: the
    /// property length and the properties.
    func encodedLength(in place: PropertyPlace) throws(MQTTProtocolError) -> Int {
        let type = place.packetType
        let entries = self.entries
        var seen: Set<PropertyIdentifier> = []
        for (id, value) in entries {
            guard id.isAllowed(in: place) else { throw .propertyNotAllowed(id, type) }
            if !seen.insert(id).inserted, !id.isRepeatable(in: place) { throw .duplicateProperty(id, type) }
            try id.check(value, in: type)
            try value.checkEncodable(in: type)
        }
        try checkAuthentication(in: type)
        let length = Self.propertyLength(of: entries)
        return VariableByteInteger.encodedLength(length) + length
    }

    /// Writes what `encodedLength` checked and measured.
    func write(into buffer: inout ByteBuffer) {
        let entries = self.entries
        buffer.writeRemainingLength(Self.propertyLength(of: entries))
        for (id, value) in entries {
            buffer.writeInteger(id.rawValue)
            value.write(into: &buffer)
        }
    }

    private static func propertyLength(of entries: [(PropertyIdentifier, PropertyValue)]) -> Int {
        entries.reduce(0) { $0 + 1 + $1.1.byteCount }
    }

    private func checkAuthentication(in type: PacketType) throws(MQTTProtocolError) {
        if self.authenticationData != nil && self.authenticationMethod == nil {
            throw .invalidPropertyValue(.authenticationData, type)
        }
    }
}

extension PropertyValue {
    /// Checks that strings and binary data fit their two-byte length, and
    /// that strings hold only allowed characters.
    func checkEncodable(in type: PacketType) throws(MQTTProtocolError) {
        switch self {
        case .string(let string): _ = try MQTTString.encodedLength(string, in: type)
        case .binary(let bytes): _ = try MQTTString.encodedLength(bytes)
        case .stringPair(let name, let value):
            _ = try MQTTString.encodedLength(name, in: type)
            _ = try MQTTString.encodedLength(value, in: type)
        case .byte, .twoByteInteger, .fourByteInteger, .variableByteInteger: break
        }
    }

    /// The size of the value on the wire.
    var byteCount: Int {
        switch self {
        case .byte: 1
        case .twoByteInteger: 2
        case .fourByteInteger: 4
        case .variableByteInteger(let value): VariableByteInteger.encodedLength(value)
        case .string(let string): 2 + string.utf8.count
        case .binary(let bytes): 2 + bytes.readableBytes
        case .stringPair(let name, let value): 4 + name.utf8.count + value.utf8.count
        }
    }

    func write(into buffer: inout ByteBuffer) {
        switch self {
        case .byte(let value): buffer.writeInteger(value)
        case .twoByteInteger(let value): buffer.writeInteger(value)
        case .fourByteInteger(let value): buffer.writeInteger(value)
        case .variableByteInteger(let value): buffer.writeRemainingLength(value)
        case .string(let string): buffer.writeMQTTString(string)
        case .binary(let bytes): buffer.writeMQTTBinary(bytes)
        case .stringPair(let name, let value):
            buffer.writeMQTTString(name)
            buffer.writeMQTTString(value)
        }
    }
}
