import Foundation
import GRDB

/// Which events to read.
public struct EventFilter: Sendable {
    public var device: String?
    public var rule: String?
    public var kinds: [EventKind]
    public var since: Date?
    public var limit: Int

    public init(device: String? = nil, rule: String? = nil, kinds: [EventKind] = [], since: Date? = nil, limit: Int = 50) {
        self.device = device
        self.rule = rule
        self.kinds = kinds
        self.since = since
        self.limit = limit
    }
}

/// A device as the log last saw it.
public struct DeviceSnapshot: Sendable, Hashable {
    public var state: DeviceStateRecord
    public var sensors: [EntityStateRecord]
    public var actuators: [EntityStateRecord]
}

extension EventDatabase {
    /// The latest events matching the filter, oldest first.
    public func events(_ filter: EventFilter) throws -> [Event] {
        try pool.read { db in
            var request = Event.all()
            if let device = filter.device { request = request.filter(Column("device") == device) }
            if let rule = filter.rule { request = request.filter(Column("rule") == rule) }
            if !filter.kinds.isEmpty { request = request.filter(filter.kinds.contains(Column("kind"))) }
            if let since = filter.since { request = request.filter(Column("time") >= since) }
            let newest = try request.order(Column("id").desc).limit(filter.limit).fetchAll(db)
            return newest.reversed()
        }
    }

    /// Events with ids greater than `id`, oldest first: for following the log live.
    public func events(after id: Int64, limit: Int = 500) throws -> [Event] {
        try pool.read { db in
            try Event.filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// Every device the log knows, with its sensors and actuators.
    public func devices() throws -> [DeviceSnapshot] {
        try pool.read { db in
            let states = try DeviceStateRecord.order(Column("device")).fetchAll(db)
            let entities = try EntityStateRecord.order(Column("device"), Column("entity")).fetchAll(db)
            let byDevice = Dictionary(grouping: entities, by: \.device)
            var known = Set(states.map(\.device))
            var snapshots = states.map { state in
                DeviceSnapshot(
                    state: state,
                    sensors: byDevice[state.device, default: []].filter { $0.role == .sensor },
                    actuators: byDevice[state.device, default: []].filter { $0.role == .actuator })
            }
            // Devices with values but never a presence or last-seen row.
            for (device, records) in byDevice where known.insert(device).inserted {
                snapshots.append(DeviceSnapshot(
                    state: DeviceStateRecord(device: device),
                    sensors: records.filter { $0.role == .sensor },
                    actuators: records.filter { $0.role == .actuator }))
            }
            return snapshots.sorted { $0.state.device < $1.state.device }
        }
    }

    /// The event and the chain of events that caused it, the event first and
    /// the original cause last. Stops at a cause that retention purged.
    public func causeChain(of id: Int64, maximumLength: Int = 50) throws -> [Event] {
        try pool.read { db in
            var chain: [Event] = []
            var next: Int64? = id
            while let current = next, chain.count < maximumLength, let event = try Event.fetchOne(db, key: current) {
                chain.append(event)
                next = event.cause
            }
            return chain
        }
    }

    /// The latest event of the given kind about one entity of a device.
    public func latestEvent(kind: EventKind, device: String, entity: String) throws -> Event? {
        try pool.read { db in
            try Event.filter(Column("kind") == kind && Column("device") == device && Column("entity") == entity)
                .order(Column("id").desc).fetchOne(db)
        }
    }
}

extension EventDatabase {
    /// One event by its id, or nil when there is none (or retention purged it).
    public func event(id: Int64) throws -> Event? {
        try pool.read { db in try Event.fetchOne(db, key: id) }
    }

    /// The actions that a `rule_fired` event caused, oldest first.
    ///
    /// Looks only at the rule's own events from the firing on, so that the
    /// `(rule, time)` index answers it and the table is never scanned.
    public func actions(causedBy fired: Event) throws -> [Event] {
        guard let rule = fired.rule else { return [] }
        return try pool.read { db in
            try Event.filter(Column("rule") == rule && Column("time") >= fired.time)
                .filter(Column("kind") == EventKind.action && Column("cause") == fired.id)
                .order(Column("id")).fetchAll(db)
        }
    }

    /// Whether any event in the log names the rule.
    public func hasEvents(forRule rule: String) throws -> Bool {
        try pool.read { db in try Event.filter(Column("rule") == rule).isEmpty(db) == false }
    }

    /// The latest recorded value of one sensor or state of one actuator.
    public func entityState(device: String, entity: String, role: EntityStateRecord.Role) throws -> EntityStateRecord? {
        try pool.read { db in
            try EntityStateRecord.fetchOne(db, key: ["device": device, "entity": entity, "role": role.rawValue])
        }
    }

    /// How many events of any kind have ids greater than `id`.
    public func countEvents(after id: Int64) throws -> Int {
        try pool.read { db in try Event.filter(Column("id") > id).fetchCount(db) }
    }

    /// How many events of a kind have ids greater than `id`.
    public func countEvents(kind: EventKind, after id: Int64) throws -> Int {
        try pool.read { db in try Event.filter(Column("kind") == kind && Column("id") > id).fetchCount(db) }
    }
}
