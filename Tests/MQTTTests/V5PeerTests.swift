import Foundation
import MQTT
import NIOCore
import TestSupport
import Testing

/// What a peer sent: each packet's bytes, and the packet decoded from them.
struct Received: Sendable {
    var bytes: [UInt8]
    var packet: Packet
}

/// A server for one connection on a plain blocking socket, so that MQTTTests
/// needs no event loop: it decodes what an MQTT 5 peer sends, keeping each
/// packet's bytes, and writes the packets `respond` returns for each.
final class RecordingListener: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 1) == 0
                    && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }

    /// Accepts one connection within `timeout` seconds and serves it until
    /// the peer closes it.
    func serve(timeout: Int32 = 20, respond: @Sendable (Packet) -> [Packet]) throws -> [Received] {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, timeout * 1000) == 1 else { throw POSIXError(.ETIMEDOUT) }
        let connection = accept(descriptor, nil, nil)
        guard connection >= 0 else { throw POSIXError(.ECONNABORTED) }
        defer { close(connection) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))

        var decoder = MQTTDecoder(supportedVersions: allVersions)
        var pending = ByteBuffer()
        var received: [Received] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { break }
            pending.writeBytes(chunk[..<count])
            while true {
                let before = pending
                guard let packet = try decoder.decode(buffer: &pending) else { break }
                let bytes = Array(before.readableBytesView.prefix(pending.readerIndex - before.readerIndex))
                received.append(Received(bytes: bytes, packet: packet))
                for answer in respond(packet) {
                    var out = ByteBuffer()
                    try out.writeMQTTPacket(answer, version: decoder.version)
                    let written = out.withUnsafeReadableBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    guard written == out.readableBytes else { throw POSIXError(.EPIPE) }
                }
            }
        }
        return received
    }
}

/// Bytes that Mosquitto 2.0.11's `mosquitto_pub -V 5` and `mosquitto_sub -V 5`
/// sent, captured with the commands in `V5PeerTests`.
enum MosquittoCaptures {
    static let pubConnect = hex("""
        10 22 00 04 4d 51 54 54 05 02 00 1e 0f 11 00 00 00 1e 21 00 14 26 00 01 61 00 01 62 00 06 70 72 6f 62 65 35
        """)
    static let pubPublish = hex("""
        32 34 00 06 68 6f 6d 65 2f 78 00 01 27 01 01 02 00 00 00 3c 03 00 0a 74 65 78 74 2f 70 6c 61 69 6e
        08 00 03 72 2f 74 09 00 03 61 62 63 26 00 01 6b 00 01 76 68 69
        """)
    static let subConnect = hex("""
        10 33 00 04 4d 51 54 54 05 0e 00 3c 05 17 00 21 00 14 00 04 73 75 62 35 12 03 00 0a 74 65 78 74 2f 70
        6c 61 69 6e 18 00 00 00 05 00 03 77 2f 74 00 03 62 79 65
        """)
    static let subSubscribe = hex("82 1b 00 01 09 0b 07 26 00 01 73 00 01 74 00 06 68 6f 6d 65 2f 23 01 00 03 61 2f 62 01")
    static let disconnect = hex("e0 00")
}

/// What the captures hold.
enum MosquittoPackets {
    static let pubConnect = Packet.connect(ConnectPacket(
        protocolVersion: .v5, clientID: "probe5", keepAlive: 30,
        properties: Properties {
            $0.sessionExpiryInterval = 30
            $0.receiveMaximum = 20
            $0.userProperties = [UserProperty(name: "a", value: "b")]
        }))
    static let pubPublish = Packet.publish(PublishPacket(
        topic: "home/x", payload: ByteBuffer(string: "hi"), qos: .atLeastOnce, packetID: 1,
        properties: Properties {
            $0.payloadFormatIndicator = .utf8
            $0.messageExpiryInterval = 60
            $0.contentType = "text/plain"
            $0.responseTopic = "r/t"
            $0.correlationData = ByteBuffer(string: "abc")
            $0.userProperties = [UserProperty(name: "k", value: "v")]
        }))
    static let subConnect = Packet.connect(ConnectPacket(
        protocolVersion: .v5, clientID: "sub5",
        will: Will(topic: "w/t", payload: ByteBuffer(string: "bye"), qos: .atLeastOnce, properties: Properties {
            $0.contentType = "text/plain"
            $0.willDelayInterval = 5
        }),
        properties: Properties {
            $0.requestProblemInformation = false
            $0.receiveMaximum = 20
        }))
    static let subSubscribe = Packet.subscribe(SubscribePacket(
        packetID: 1,
        subscriptions: [TopicSubscription(filter: "home/#", qos: .atLeastOnce), TopicSubscription(filter: "a/b", qos: .atLeastOnce)],
        properties: Properties {
            $0.subscriptionIdentifiers = [7]
            $0.userProperties = [UserProperty(name: "s", value: "t")]
        }))
}

@Suite("MQTT 5 bytes of a real peer", .timeLimit(.minutes(5)))
struct V5PeerTests {
    @Test("Mosquitto's captured MQTT 5 packets decode as expected and encode back to the same bytes", arguments: [
        (MosquittoCaptures.pubConnect, MosquittoPackets.pubConnect),
        (MosquittoCaptures.pubPublish, MosquittoPackets.pubPublish),
        (MosquittoCaptures.subConnect, MosquittoPackets.subConnect),
        (MosquittoCaptures.subSubscribe, MosquittoPackets.subSubscribe),
        (MosquittoCaptures.disconnect, Packet.disconnect(DisconnectPacket())),
    ])
    func captured(bytes: [UInt8], packet: Packet) throws {
        #expect(try decode5(bytes) == packet)
        #expect(try encode5(packet) == bytes)
    }

    @Test("mosquitto_pub -V 5 sends what we decode, and takes our CONNACK and PUBACK", .enabled(if: Peers.enabled("mosquitto_pub")))
    func mosquittoPub() async throws {
        let executable = try Peers.require("mosquitto_pub")
        let listener = try RecordingListener()
        async let served = offloaded {
            try listener.serve { packet in
                switch packet {
                case .connect: [.connack(ConnAckPacket(reasonCode: .success, properties: Properties {
                    $0.receiveMaximum = 10
                    $0.topicAliasMaximum = 5
                    $0.retainAvailable = true
                    $0.serverKeepAlive = 30
                }))]
                case .publish(let publish): [.puback(AckPacket(
                    packetID: publish.packetID, properties: Properties { $0.reasonString = "stored" }))]
                default: []
                }
            }
        }
        let result = try await run(executable, [
            "-V", "5", "-h", "127.0.0.1", "-p", "\(listener.port)", "-i", "probe5", "-k", "30", "-q", "1",
            "-t", "home/x", "-m", "hi",
            "-D", "connect", "session-expiry-interval", "30", "-D", "connect", "receive-maximum", "20",
            "-D", "connect", "user-property", "a", "b",
            "-D", "publish", "payload-format-indicator", "1", "-D", "publish", "message-expiry-interval", "60",
            "-D", "publish", "content-type", "text/plain", "-D", "publish", "response-topic", "r/t",
            "-D", "publish", "correlation-data", "abc", "-D", "publish", "user-property", "k", "v",
        ])
        let received = try await served
        #expect(result.status == 0, "mosquitto_pub: \(result.stderr)")
        #expect(received.map(\.packet) == [MosquittoPackets.pubConnect, MosquittoPackets.pubPublish, .disconnect(DisconnectPacket())])
        #expect(received.map(\.bytes) == [MosquittoCaptures.pubConnect, MosquittoCaptures.pubPublish, MosquittoCaptures.disconnect])
    }

    @Test("mosquitto_sub -V 5 subscribes as we decode, and reads our PUBLISH's properties", .enabled(if: Peers.enabled("mosquitto_sub")))
    func mosquittoSub() async throws {
        let executable = try Peers.require("mosquitto_sub")
        let listener = try RecordingListener()
        async let served = offloaded {
            try listener.serve { packet in
                switch packet {
                case .connect: [.connack(ConnAckPacket(reasonCode: .success))]
                case .subscribe(let subscribe): [
                    .suback(SubAckPacket(packetID: subscribe.packetID, returnCodes: [.init(.grantedQoS1), .init(.grantedQoS1)])),
                    .publish(PublishPacket(
                        topic: "home/x", payload: ByteBuffer(string: "hi"), qos: .atLeastOnce, packetID: 1,
                        properties: Properties {
                            $0.payloadFormatIndicator = .utf8
                            $0.contentType = "text/plain"
                            $0.responseTopic = "r/t"
                            $0.correlationData = ByteBuffer(string: "abc")
                            $0.subscriptionIdentifiers = [7]
                            $0.userProperties = [UserProperty(name: "k", value: "v")]
                        })),
                ]
                default: []
                }
            }
        }
        let result = try await run(executable, [
            "-V", "5", "-h", "127.0.0.1", "-p", "\(listener.port)", "-i", "sub5", "-t", "home/#", "-t", "a/b", "-q", "1",
            "-C", "1", "-F", "%t|%p|%C|%R|%P|%S|%F|%D",
            "-D", "subscribe", "subscription-identifier", "7", "-D", "subscribe", "user-property", "s", "t",
            "--will-topic", "w/t", "--will-payload", "bye", "--will-qos", "1",
            "-D", "will", "content-type", "text/plain", "-D", "will", "will-delay-interval", "5",
            "-D", "connect", "request-problem-information", "0",
        ])
        let received = try await served
        #expect(result.status == 0, "mosquitto_sub: \(result.stderr)")
        #expect(result.stdout == "home/x|hi|text/plain|r/t|k:v|7|1|abc\n")
        // With -C 1, mosquitto_sub asks for a receive maximum of 1 rather than 20.
        guard case .connect(var connect) = MosquittoPackets.subConnect else { return }
        connect.properties.receiveMaximum = 1
        #expect(received.map(\.packet) == [
            .connect(connect), MosquittoPackets.subSubscribe, .puback(AckPacket(packetID: 1)), .disconnect(DisconnectPacket()),
        ])
        for packet in received { #expect(try encode5(packet.packet) == packet.bytes) }
    }
}
