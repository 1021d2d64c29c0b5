import MQTT
import NIOCore

/// The MQTT packet decoder under the fuzzer, in a program of its own: it
/// links only `MQTT` and NIO's core, so libFuzzer's coverage counters (which
/// it walks after every input) are those of the code under test, not of
/// every dependency of the daemon.
enum PacketRoundTrip {
    /// Decodes packets until the bytes run out or one is refused; each one
    /// decoded must encode, and decode again to itself.
    static func run(_ bytes: UnsafeRawBufferPointer) {
        var decoder = MQTTDecoder()
        var buffer = ByteBuffer(bytes: bytes)
        while let packet = try? decoder.decode(buffer: &buffer) {
            var encoded = ByteBuffer()
            guard (try? MQTTEncoder().encode(data: packet, out: &encoded)) != nil else {
                fatalError("a decoded packet does not encode: \(packet)")
            }
            var again = MQTTDecoder()
            let decodedAgain = try? again.decode(buffer: &encoded)
            guard decodedAgain == packet else {
                fatalError("a packet changed on its way through the encoder: \(packet) became \(String(describing: decodedAgain))")
            }
        }
    }
}
