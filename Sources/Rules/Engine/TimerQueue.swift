import Foundation

/// What a pending timer is for.
enum TimerKey: Sendable, Hashable {
    /// A trigger's `for` ends (per concrete topic for wildcard `mqtt` triggers).
    case hold(rule: Int, trigger: Int, topic: String?)
    /// A run paused by `delay` resumes.
    case resume(rule: Int)
    /// A time trigger fires.
    case schedule(rule: Int, trigger: Int)
    /// A device with `expire_after` may have fallen silent.
    case expiry(device: Int)
    /// The grace period of a device whose presence was restored ends.
    case grace(device: Int)
}

/// Pending timers ordered by deadline: a binary heap with lazy deletion, so
/// that scheduling and cancelling cost O(log n) and the next deadline O(1).
/// One queue per clock: `MonotonicInstant` for durations, `Date` for `at`
/// and `cron`.
struct TimerQueue<Instant: Comparable & Sendable>: Sendable {
    private struct Entry: Sendable {
        var date: Instant
        /// Breaks ties in scheduling order, so that runs are deterministic.
        var order: UInt64
        var key: TimerKey
    }

    private var deadlines: [TimerKey: (date: Instant, order: UInt64)] = [:]
    private var heap: [Entry] = []
    private var counter: UInt64 = 0

    /// The earliest deadline.
    var earliest: Instant? { heap.first?.date }

    /// The deadline of `key`, if it is scheduled.
    func deadline(of key: TimerKey) -> Instant? { deadlines[key]?.date }

    /// Every pending timer, earliest first.
    var pending: [(key: TimerKey, date: Instant)] {
        deadlines.sorted { ($0.value.date, $0.value.order) < ($1.value.date, $1.value.order) }.map { ($0.key, $0.value.date) }
    }

    /// Schedules `key` at `date`, replacing an earlier schedule of it.
    mutating func schedule(_ key: TimerKey, at date: Instant) {
        counter += 1
        deadlines[key] = (date, counter)
        push(Entry(date: date, order: counter, key: key))
        dropStaleTop()
    }

    mutating func cancel(_ key: TimerKey) {
        guard deadlines.removeValue(forKey: key) != nil else { return }
        dropStaleTop()
        if heap.count > 64, heap.count > deadlines.count * 4 { rebuild() }
    }

    /// Removes and returns the earliest timer due at `now`.
    mutating func popDue(at now: Instant) -> (key: TimerKey, date: Instant)? {
        guard let top = heap.first, top.date <= now else { return nil }
        deadlines[top.key] = nil
        removeTop()
        dropStaleTop()
        return (top.key, top.date)
    }

    private func isCurrent(_ entry: Entry) -> Bool {
        deadlines[entry.key].map { $0.order == entry.order } ?? false
    }

    private mutating func dropStaleTop() {
        while let top = heap.first, !isCurrent(top) { removeTop() }
    }

    private mutating func rebuild() {
        let entries = deadlines.map { Entry(date: $0.value.date, order: $0.value.order, key: $0.key) }
        heap = []
        for entry in entries { push(entry) }
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        (a.date, a.order) < (b.date, b.order)
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func removeTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
