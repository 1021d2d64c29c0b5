import MQTT
import NIOCore
import Testing

private let user = [UserProperty(name: "site", value: "home"), UserProperty(name: "site", value: "cabin")]

/// Every property that a CONNECT allows.
private let connectProperties = Properties {
    $0.sessionExpiryInterval = 3600
    $0.authenticationMethod = "SCRAM-SHA-256"
    $0.authenticationData = ByteBuffer(bytes: [1, 2, 3])
    $0.requestProblemInformation = false
    $0.requestResponseInformation = true
    $0.receiveMaximum = 20
    $0.topicAliasMaximum = 10
    $0.userProperties = user
    $0.maximumPacketSize = 65536
}

/// Every property that a will allows.
private let willProperties = Properties {
    $0.payloadFormatIndicator = .utf8
    $0.messageExpiryInterval = 600
    $0.contentType = "text/plain"
    $0.responseTopic = "home/answers"
    $0.correlationData = ByteBuffer(bytes: [0xCA, 0xFE])
    $0.willDelayInterval = 30
    $0.userProperties = user
}

/// Every property that a CONNACK allows.
private let connAckProperties = Properties {
    $0.sessionExpiryInterval = 0xFFFF_FFFF
    $0.assignedClientIdentifier = "auto-1F2E"
    $0.serverKeepAlive = 120
    $0.authenticationMethod = "SCRAM-SHA-256"
    $0.authenticationData = ByteBuffer(bytes: [9])
    $0.responseInformation = "responses/"
    $0.serverReference = "other.example"
    $0.reasonString = "welcome"
    $0.receiveMaximum = 65535
    $0.topicAliasMaximum = 0
    $0.maximumQoS = .atLeastOnce
    $0.retainAvailable = false
    $0.userProperties = user
    $0.maximumPacketSize = 268_435_460
    $0.wildcardSubscriptionAvailable = true
    $0.subscriptionIdentifierAvailable = false
    $0.sharedSubscriptionAvailable = true
}

/// Every property that a PUBLISH allows.
private let publishProperties = Properties {
    $0.payloadFormatIndicator = .unspecified
    $0.messageExpiryInterval = 0
    $0.contentType = "application/json"
    $0.responseTopic = "reply/here"
    $0.correlationData = ByteBuffer()
    $0.subscriptionIdentifiers = [1, 127, 128, 268_435_455]
    $0.topicAlias = 65535
    $0.userProperties = user
}

private let diagnostics = Properties {
    $0.reasonString = "because"
    $0.userProperties = user
}

/// At least one of every MQTT 5 packet, with every property it allows.
let v5Samples: [Sample] = [
    Sample("CONNECT 5, minimal", .connect(ConnectPacket(protocolVersion: .v5, clientID: "device-5"))),
    Sample("CONNECT 5, everything", .connect(ConnectPacket(
        protocolVersion: .v5, clientID: "node", cleanSession: false, keepAlive: 300,
        will: Will(topic: "home/node/status", payload: ByteBuffer(string: "offline"), qos: .exactlyOnce,
                   retain: true, properties: willProperties),
        username: "sensor", password: ByteBuffer(string: "secret"), properties: connectProperties))),
    Sample("CONNECT 5, password without user name", .connect(ConnectPacket(
        protocolVersion: .v5, clientID: "", password: ByteBuffer(string: "token")))),
    Sample("CONNACK 5, success", .connack(ConnAckPacket(reasonCode: .success))),
    Sample("CONNACK 5, everything", .connack(ConnAckPacket(
        sessionPresent: true, reasonCode: .success, properties: connAckProperties))),
    Sample("CONNACK 5, refused", .connack(ConnAckPacket(
        reasonCode: .badUserNameOrPassword, properties: Properties { $0.reasonString = "no" }))),
    Sample("PUBLISH 5, QoS 0", .publish(PublishPacket(topic: "home/temp", payload: ByteBuffer(string: "21.5")))),
    Sample("PUBLISH 5, QoS 1, everything", .publish(PublishPacket(
        topic: "home/temp", payload: ByteBuffer(string: "{}"), qos: .atLeastOnce, retain: true, dup: true,
        packetID: 7, properties: publishProperties))),
    Sample("PUBLISH 5, QoS 2, topic alias instead of a topic", .publish(PublishPacket(
        topic: "", payload: ByteBuffer(), qos: .exactlyOnce, packetID: 65535,
        properties: Properties { $0.topicAlias = 1 }))),
    Sample("PUBACK 5, success", .puback(AckPacket(packetID: 1))),
    Sample("PUBACK 5, reason only", .puback(AckPacket(packetID: 2, reasonCode: .noMatchingSubscribers))),
    Sample("PUBACK 5, reason and properties", .puback(AckPacket(
        packetID: 3, reasonCode: .quotaExceeded, properties: diagnostics))),
    Sample("PUBREC 5, success with properties", .pubrec(AckPacket(packetID: 4, properties: diagnostics))),
    Sample("PUBREC 5, error", .pubrec(AckPacket(packetID: 5, reasonCode: .payloadFormatInvalid))),
    Sample("PUBREL 5, not found", .pubrel(AckPacket(
        packetID: 6, reasonCode: .packetIdentifierNotFound, properties: diagnostics))),
    Sample("PUBCOMP 5, success", .pubcomp(AckPacket(packetID: 8))),
    Sample("PUBCOMP 5, not found", .pubcomp(AckPacket(packetID: 9, reasonCode: .packetIdentifierNotFound))),
    Sample("SUBSCRIBE 5, every option", .subscribe(SubscribePacket(
        packetID: 10,
        subscriptions: [
            TopicSubscription(filter: "home/#", qos: .atMostOnce),
            TopicSubscription(filter: "a/+", qos: .atLeastOnce, noLocal: true),
            TopicSubscription(filter: "b", qos: .exactlyOnce, retainAsPublished: true,
                              retainHandling: .sendOnNewSubscription),
            TopicSubscription(filter: "$share/g/c", qos: .exactlyOnce, noLocal: false, retainAsPublished: true,
                              retainHandling: .doNotSend),
        ],
        properties: Properties {
            $0.subscriptionIdentifiers = [268_435_455]
            $0.userProperties = user
        }))),
    Sample("SUBACK 5, every granted and some failures", .suback(SubAckPacket(
        packetID: 11,
        returnCodes: [MQTTReasonCode.grantedQoS0, .grantedQoS1, .grantedQoS2, .unspecifiedError, .notAuthorized,
                      .wildcardSubscriptionsNotSupported].map { SubscribeReturnCode($0) },
        properties: diagnostics))),
    Sample("UNSUBSCRIBE 5", .unsubscribe(UnsubscribePacket(
        packetID: 12, filters: ["home/#", "a/b"], properties: Properties { $0.userProperties = user }))),
    Sample("UNSUBACK 5", .unsuback(AckPacket(
        packetID: 13, reasonCodes: [.success, .noSubscriptionExisted, .topicFilterInvalid], properties: diagnostics))),
    Sample("DISCONNECT 5, normal", .disconnect(DisconnectPacket())),
    Sample("DISCONNECT 5, with will", .disconnect(DisconnectPacket(reasonCode: .disconnectWithWillMessage))),
    Sample("DISCONNECT 5, everything", .disconnect(DisconnectPacket(
        reasonCode: .serverMoved,
        properties: Properties {
            $0.sessionExpiryInterval = 0
            $0.serverReference = "other.example:1883"
            $0.reasonString = "moved"
            $0.userProperties = user
        }))),
    Sample("AUTH, success", .auth(AuthPacket())),
    Sample("AUTH, continue, everything", .auth(AuthPacket(
        reasonCode: .continueAuthentication,
        properties: Properties {
            $0.authenticationMethod = "SCRAM-SHA-256"
            $0.authenticationData = ByteBuffer(string: "c=biws,r=abc")
            $0.reasonString = "step 2"
            $0.userProperties = user
        }))),
    Sample("AUTH, re-authenticate", .auth(AuthPacket(
        reasonCode: .reAuthenticate, properties: Properties { $0.authenticationMethod = "TOKEN" }))),
    Sample("PINGREQ 5", .pingreq),
    Sample("PINGRESP 5", .pingresp),
]

@Suite("MQTT 5 round trips", .timeLimit(.minutes(5)))
struct V5RoundTripTests {
    @Test("every MQTT 5 packet decodes to itself", arguments: v5Samples)
    func roundTrip(sample: Sample) throws {
        let bytes = try encode5(sample.packet)
        #expect(try decode5(bytes) == sample.packet)
    }

    @Test("an MQTT 5 packet arriving byte by byte decodes once, at its last byte", arguments: v5Samples)
    func byteByByte(sample: Sample) throws {
        let bytes = try encode5(sample.packet)
        var decoder = MQTTDecoder(version: .v5, supportedVersions: allVersions)
        var buffer = ByteBuffer()
        for (index, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            let decoded = try decoder.decode(buffer: &buffer)
            #expect((decoded != nil) == (index == bytes.count - 1))
            if let decoded { #expect(decoded == sample.packet) }
        }
    }

    @Test("a packet written in 3.1.1 is the 3.1.1 bytes, or refused when it needs MQTT 5", arguments: v5Samples)
    func sameOrRefusedIn311(sample: Sample) throws {
        guard case .connect = sample.packet else {
            do {
                let bytes = try encode(sample.packet)
                #expect(try decode(bytes) == sample.packet)
            } catch let error as MQTTProtocolError {
                #expect(error == .requiresMQTT5(sample.packet.type))
            }
            return
        }
        // CONNECT is written in the version it names, whatever the connection's.
        #expect(try encode(sample.packet) == encode5(sample.packet))
    }

    @Test("a server's decoder learns MQTT 5 from CONNECT and reads what follows as MQTT 5")
    func learnsVersionFromConnect() throws {
        let stream = try v5Samples.flatMap { try encode5($0.packet) }
        var decoder = MQTTDecoder(supportedVersions: allVersions)
        #expect(decoder.version == .v3_1_1)
        var buffer = ByteBuffer(bytes: stream)
        var packets: [Packet] = []
        while let packet = try decoder.decode(buffer: &buffer) { packets.append(packet) }
        #expect(packets == v5Samples.map(\.packet))
        #expect(decoder.version == .v5)
    }

    @Test("a 3.1.1 CONNECT sets a decoder back to 3.1.1")
    func learns311() throws {
        var decoder = MQTTDecoder(version: .v5, supportedVersions: allVersions)
        var buffer = ByteBuffer(bytes: try encode(.connect(ConnectPacket(clientID: "old"))))
        _ = try decoder.decode(buffer: &buffer)
        #expect(decoder.version == .v3_1_1)
    }

    @Test("the MQTT 5 encoder handler writes the bytes of writeMQTTPacket in MQTT 5")
    func encoderHandler() throws {
        for sample in v5Samples {
            var out = ByteBuffer()
            try MQTTEncoder(version: .v5).encode(data: sample.packet, out: &out)
            #expect(Array(out.readableBytesView) == (try encode5(sample.packet)))
        }
    }

    @Test("the PUBLISH header writer and the payload make the packet's bytes in MQTT 5")
    func publishHeader() throws {
        guard case .publish(let publish) = v5Samples[7].packet else { Issue.record("not a PUBLISH"); return }
        var head = ByteBuffer()
        try head.writeMQTTPublishHeader(publish, version: .v5)
        #expect(Array(head.readableBytesView) + Array(publish.payload.readableBytesView) == (try encode5(.publish(publish))))
    }
}
