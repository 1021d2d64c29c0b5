import MQTT
import NIOCore
import TestSupport
import Testing

@Suite("Robustness against arbitrary bytes", .timeLimit(.minutes(5)))
struct RobustnessTests {
    /// Decodes `bytes` to the end; each packet decoded must survive another
    /// round trip, since the decoder hands on only what the encoder accepts.
    private func feed(_ bytes: [UInt8]) -> Outcome {
        var decoder = MQTTDecoder(maximumPacketSize: 4096)
        var buffer = ByteBuffer(bytes: bytes)
        var decoded = 0
        do {
            while let packet = try decoder.decode(buffer: &buffer) {
                decoded += 1
                let reencoded = try encode(packet)
                guard try decode(reencoded) == packet else { return .unstable(packet) }
            }
        } catch is MQTTProtocolError {
            return .refused
        } catch {
            return .unexpectedError(error)
        }
        return decoded > 0 ? .decoded : .needsMore
    }

    private enum Outcome {
        case decoded, needsMore, refused
        case unstable(Packet)
        case unexpectedError(any Error)

        var isExpected: Bool {
            switch self {
            case .decoded, .needsMore, .refused: true
            case .unstable, .unexpectedError: false
            }
        }
    }

    @Test("10,000 random byte strings only decode, wait or throw a protocol error")
    func randomBytes() {
        var random = SeededGenerator(seed: 0x4D51_5454)
        var decodedCount = 0
        for _ in 0..<10_000 {
            let count = Int.random(in: 0...48, using: &random)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Give most inputs a valid type and a short remaining length so that
            // the bodies, not only the headers, are exercised.
            if count >= 2, Bool.random(using: &random) {
                bytes[0] = UInt8.random(in: 1...14, using: &random) << 4 | (bytes[0] & 0x0F)
                bytes[1] = UInt8(count - 2)
            }
            let outcome = feed(bytes)
            #expect(outcome.isExpected, "\(bytes): \(outcome)")
            if case .decoded = outcome { decodedCount += 1 }
        }
        #expect(decodedCount > 0)
    }

    @Test("10,000 mutations of valid packets only decode, wait or throw a protocol error")
    func mutatedPackets() throws {
        var random = SeededGenerator(seed: 0x3131_0311)
        let valid = try samples.map { try encode($0.packet) }
        var outcomes: [String: Int] = [:]
        for _ in 0..<10_000 {
            var bytes = valid.randomElement(using: &random)!
            for _ in 0...Int.random(in: 0...3, using: &random) {
                mutate(&bytes, using: &random)
            }
            let outcome = feed(bytes)
            #expect(outcome.isExpected, "\(bytes): \(outcome)")
            outcomes["\(outcome)", default: 0] += 1
        }
        // The mutations reach every outcome, so the test is not vacuous.
        #expect(outcomes["decoded", default: 0] > 100)
        #expect(outcomes["refused", default: 0] > 100)
        #expect(outcomes["needsMore", default: 0] > 10)
    }

    private func mutate(_ bytes: inout [UInt8], using random: inout SeededGenerator) {
        guard !bytes.isEmpty else {
            bytes.append(UInt8.random(in: 0...255, using: &random))
            return
        }
        let index = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
        case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
        case 3: bytes.remove(at: index)
        default: bytes.removeLast(Int.random(in: 0...bytes.count - index, using: &random))
        }
    }
}
