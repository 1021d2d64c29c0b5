import MQTT
import NIOCore

/// The MQTT packet decoder under the fuzzer, in a program of its own: it
/// links only `MQTT` and NIO's core, so libFuzzer's coverage counters (which
/// it walks after every input) are those of the code under test, not of
/// every dependency of the daemon.
enum PacketRoundTrip {
    private static let allVersions: Set<ProtocolVersion> = [.v3_1, .v3_1_1, .v5]

    /// Decodes the bytes three ways: as a 3.1.1 server does today, as a
    /// server that accepts MQTT 5 and learns the version from CONNECT, and
    /// as an MQTT 5 connection from the first byte (so that inputs need not
    /// start with CONNECT to reach the MQTT 5 bodies).
    static func run(_ bytes: UnsafeRawBufferPointer) {
        run(bytes, MQTTDecoder())
        run(bytes, MQTTDecoder(supportedVersions: allVersions))
        run(bytes, MQTTDecoder(version: .v5, supportedVersions: allVersions))
    }

    /// Decodes packets until the bytes run out or one is refused; each one
    /// decoded must encode in the version it was decoded in, and decode
    /// again to itself.
    private static func run(_ bytes: UnsafeRawBufferPointer, _ decoder: MQTTDecoder) {
        var decoder = decoder
        var buffer = ByteBuffer(bytes: bytes)
        // Ten thousand PINGREQs teach no more than a hundred, and take the fuzzer's time a hundred times over.
        for _ in 0..<100 {
            let version = decoder.version
            guard let packet = try? decoder.decode(buffer: &buffer) else { return }
            var encoded = ByteBuffer()
            guard (try? MQTTEncoder(version: version).encode(data: packet, out: &encoded)) != nil else {
                fatalError("a decoded \(version) packet does not encode: \(packet)")
            }
            var again = MQTTDecoder(version: version, supportedVersions: allVersions)
            let decodedAgain = try? again.decode(buffer: &encoded)
            guard decodedAgain == packet else {
                fatalError("a packet changed on its way through the encoder: \(packet) became \(String(describing: decodedAgain))")
            }
        }
    }
}
