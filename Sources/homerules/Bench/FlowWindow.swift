/// End-to-end flow control for one publisher: it may be at most `size`
/// messages ahead of the slowest receiver. Without it a fast publisher
/// overruns any broker's per-client queue, and the benchmark measures
/// drops instead of throughput.
///
/// Lives on the load generator's one event loop, like every connection.
final class FlowWindow {
    let size: Int
    private var receivedBy: [Int]
    private var slowest = 0
    /// Called when the window opens again: the publisher's pump.
    var wake: (() -> Void)?

    init(size: Int, receivers: Int) {
        self.size = size
        self.receivedBy = Array(repeating: 0, count: receivers)
    }

    func mayPublish(sent: Int) -> Bool {
        sent - slowest < size
    }

    func received(by receiver: Int) {
        let before = slowest
        receivedBy[receiver] += 1
        if receivedBy[receiver] - 1 == before {
            slowest = receivedBy.min() ?? 0
            // Wake the publisher every half window, not for every message.
            if slowest != before && slowest % max(1, size / 2) == 0 { wake?() }
        }
    }
}

/// The flow windows of a scenario, by publisher id.
final class FlowTable {
    private(set) var windows: [UInt32: FlowWindow] = [:]

    func add(_ window: FlowWindow, for publisher: UInt32) {
        windows[publisher] = window
    }
}
