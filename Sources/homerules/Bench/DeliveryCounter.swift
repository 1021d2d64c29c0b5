import Histogram

/// What one subscriber received, per publisher: how many arrived, doubled
/// or out of order, and how late.
struct DeliveryCounter {
    private var seen: [UInt32: SequenceTracker] = [:]
    private var totals = DeliveryTotals()

    mutating func record(_ payload: BenchPayload, receivedAt: UInt64) {
        totals.received += 1
        switch seen[payload.publisher, default: SequenceTracker()].insert(payload.sequence) {
        case .inOrder: break
        case .late: totals.reordered += 1
        case .duplicate: totals.duplicates += 1
        }
        if receivedAt >= payload.sentAt { _ = totals.latency.record(receivedAt - payload.sentAt) }
    }

    /// The totals, with `lost` counted against what each publisher sent.
    func totals(expectedPerPublisher: [UInt32: Int]) -> DeliveryTotals {
        var result = totals
        result.lost = expectedPerPublisher.reduce(0) { lost, entry in
            lost + max(0, entry.value - (seen[entry.key]?.distinct ?? 0))
        }
        return result
    }
}

/// Delivery figures, summable over subscribers.
struct DeliveryTotals {
    var received = 0
    var duplicates = 0
    var reordered = 0
    var lost = 0
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    static func + (lhs: DeliveryTotals, rhs: DeliveryTotals) -> DeliveryTotals {
        var sum = lhs
        sum.received += rhs.received
        sum.duplicates += rhs.duplicates
        sum.reordered += rhs.reordered
        sum.lost += rhs.lost
        sum.latency.add(rhs.latency)
        return sum
    }
}

/// The sequence numbers seen from one publisher, as a bitmap.
struct SequenceTracker {
    enum Outcome { case inOrder, late, duplicate }

    private var bits: [UInt64] = []
    private var highest: UInt64?
    private(set) var distinct = 0

    mutating func insert(_ sequence: UInt64) -> Outcome {
        let word = Int(sequence / 64), bit = UInt64(1) << (sequence % 64)
        if word >= bits.count { bits.append(contentsOf: repeatElement(0, count: word - bits.count + 1)) }
        if bits[word] & bit != 0 { return .duplicate }
        bits[word] |= bit
        distinct += 1
        defer { highest = max(highest ?? sequence, sequence) }
        if let highest, sequence < highest { return .late }
        return .inOrder
    }
}
