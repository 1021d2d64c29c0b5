import Foundation
import TestSupport
import Testing

/// `max_packet_size` as mosquitto_pub meets it.
@Suite("Interop: packet size limit", .timeLimit(.minutes(2)))
struct InteropLimitsTests {
    @Test(
        "a payload just under max_packet_size arrives intact; one over it closes only its publisher",
        .enabled(if: Peers.enabled("mosquitto_sub", "mosquitto_pub")))
    func packetSizeLimit() async throws {
        try await withInteropBroker({ $0.maximumPacketSize = 64 * 1024 }) { broker in
            let mosquitto = try InteropMosquitto(port: broker.port)
            let directory = try TemporaryDirectory()
            let fits = String((0..<60_000).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
            let tooLarge = String(repeating: "x", count: 70_000)
            try fits.write(to: directory.file("fits.txt"), atomically: true, encoding: .utf8)
            try tooLarge.write(to: directory.file("too-large.txt"), atomically: true, encoding: .utf8)

            let subscriber = try mosquitto.subscribe(["-t", "interop/big", "-q", "1", "-C", "2"], format: "%t|%q|%l|%p")
            defer { subscriber.stop() }
            try await broker.waitForSubscriptions(1)

            try await mosquitto.publish(["-t", "interop/big", "-q", "1", "-f", directory.file("fits.txt").path])
            // Closed before its PUBACK: mosquitto_pub reports the lost connection.
            let refused = try await mosquitto.runPublisher(
                ["-t", "interop/big", "-q", "1", "-f", directory.file("too-large.txt").path])
            #expect(refused.status != 0, "mosquitto_pub: \(refused)")
            try await mosquitto.publish(["-t", "interop/big", "-q", "1", "-m", "small"])

            #expect(await subscriber.interopExit() == 0, "mosquitto_sub: \(subscriber.output.prefix(300))")
            let lines = subscriber.interopLines
            #expect(lines.count == 2)
            #expect(lines.first == "interop/big|1|60000|\(fits)", "got \(lines.first?.prefix(40) ?? "nothing")")
            #expect(lines.last == "interop/big|1|5|small")
            #expect(try await broker.broker.status().publishReceived == 2)
        }
    }
}
