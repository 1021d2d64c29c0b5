import MQTT
import NIOCore
import TestSupport
import Testing

@Suite("Robustness of MQTT 5 decoding", .timeLimit(.minutes(5)))
struct V5RobustnessTests {
    /// Mutates MQTT 5 packets (a changed byte, a flipped bit, a cut), and
    /// decodes them as an MQTT 5 connection does: each must decode, wait or
    /// be refused, and what decodes must encode and decode to itself, as the
    /// fuzz target checks at a larger scale.
    @Test("10,000 mutations of MQTT 5 packets only decode, wait or throw, and what decodes round-trips")
    func mutatedPackets() throws {
        var random = SeededGenerator(seed: 0x0005_0005)
        let valid = try v5Samples.map { try encode5($0.packet) }
        var decodedCount = 0
        var refusedCount = 0
        for _ in 0..<10_000 {
            var bytes = valid.randomElement(using: &random)!
            for _ in 0...Int.random(in: 0...2, using: &random) where !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
                default: bytes.removeLast(bytes.count - index)
                }
            }
            var decoder = MQTTDecoder(maximumPacketSize: 4096, version: .v5, supportedVersions: allVersions)
            var buffer = ByteBuffer(bytes: bytes)
            while true {
                let version = decoder.version
                let decoded: Packet?
                do {
                    decoded = try decoder.decode(buffer: &buffer)
                } catch is MQTTProtocolError {
                    refusedCount += 1
                    break
                }
                guard let packet = decoded else { break }
                decodedCount += 1
                // A decoded packet that does not encode fails the test by throwing.
                var encoded = ByteBuffer()
                try encoded.writeMQTTPacket(packet, version: version)
                var again = MQTTDecoder(version: version, supportedVersions: allVersions)
                #expect(try again.decode(buffer: &encoded) == packet, "\(bytes)")
            }
        }
        #expect(decodedCount > 100)
        #expect(refusedCount > 100)
    }
}
