import Foundation
import NIOCore

/// What every benchmark message carries, so that loss, duplicates,
/// reordering and latency are counted, not assumed: the publisher, a
/// sequence number, and the monotonic time it was sent.
struct BenchPayload {
    static let headerSize = 20

    var publisher: UInt32
    var sequence: UInt64
    /// `ContinuousClock`-style nanoseconds (CLOCK_MONOTONIC), the same in
    /// every process of the machine.
    var sentAt: UInt64

    /// Writes the fields, then padding up to `size` bytes (at least the header).
    func write(into buffer: inout ByteBuffer, size: Int) {
        buffer.writeInteger(publisher)
        buffer.writeInteger(sequence)
        buffer.writeInteger(sentAt)
        if size > Self.headerSize { buffer.writeRepeatingByte(0x2E, count: size - Self.headerSize) }
    }

    init(publisher: UInt32, sequence: UInt64, sentAt: UInt64) {
        self.publisher = publisher
        self.sequence = sequence
        self.sentAt = sentAt
    }

    init?(reading buffer: ByteBuffer) {
        guard let publisher = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
              let sequence = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt64.self),
              let sentAt = buffer.getInteger(at: buffer.readerIndex + 12, as: UInt64.self)
        else { return nil }
        self.init(publisher: publisher, sequence: sequence, sentAt: sentAt)
    }

    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
