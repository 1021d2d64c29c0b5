import EventLog

/// Which events `homerules watch DEVICE...` shows.
///
/// An event with a device matches when its device is one of those named.
/// An event without one (a rule's decision), and an action on another
/// device, match when their cause matched: the rule decisions a device's
/// message led to, and the actions of those rules, follow that device. Rule
/// events started by time, with no cause, show only without a filter.
struct WatchFilter {
    let devices: Set<String>
    /// Ids of events that matched, for following causes; the newest only.
    private var matched: Set<Int64> = []
    private var matchedOrder: [Int64] = []
    private var oldest = 0

    /// Enough to follow the causes of a busy minute.
    static let rememberedEvents = 4096

    init(devices: [String]) {
        self.devices = Set(devices)
    }

    mutating func matches(_ event: Event) -> Bool {
        guard !devices.isEmpty else { return true }
        let byDevice = event.device.map(devices.contains) ?? false
        let byCause = event.cause.map(matched.contains) ?? false
        guard byDevice || byCause else { return false }
        remember(event.id)
        return true
    }

    private mutating func remember(_ id: Int64) {
        guard matched.insert(id).inserted else { return }
        if matchedOrder.count < Self.rememberedEvents {
            matchedOrder.append(id)
        } else {
            matched.remove(matchedOrder[oldest])
            matchedOrder[oldest] = id
            oldest = (oldest + 1) % Self.rememberedEvents
        }
    }
}
