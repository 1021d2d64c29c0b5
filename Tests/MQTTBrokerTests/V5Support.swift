import MQTT
import NIOCore

/// A PUBLISH for the MQTT 5 tests, its properties built by `configure`.
func publish5(
    _ topic: String, _ payload: String, qos: QoS = .atMostOnce, id: UInt16 = 0, retain: Bool = false,
    _ configure: (inout Properties) -> Void = { _ in }
) -> Packet {
    var properties = Properties()
    configure(&properties)
    return .publish(PublishPacket(
        topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain, packetID: id, properties: properties))
}

extension RawClient {
    /// The next packet, which must be DISCONNECT: its reason code.
    func nextDisconnect(timeout: Duration = .seconds(30)) async throws -> DisconnectPacket {
        let packet = try await next(timeout: timeout)
        guard case .disconnect(let disconnect) = packet else { throw RawClientError.unexpected("expected DISCONNECT, got \(packet)") }
        return disconnect
    }

    /// Receives a QoS 1 PUBLISH and acknowledges it.
    func nextAcknowledged(timeout: Duration = .seconds(30)) async throws -> PublishPacket {
        let publish = try await nextPublish(timeout: timeout)
        if publish.qos == .atLeastOnce { try await send(.puback(AckPacket(packetID: publish.packetID))) }
        return publish
    }
}
