import EventLog
import Foundation
import Rules

/// One device as `homerules devices` shows it: the state the log recorded,
/// with names and units from the definitions.
struct DeviceReport: Equatable {
    struct SensorReport: Equatable {
        var name: String
        /// As the log stores it: `27.5`, `true`, `open`; nil when never reported.
        var value: String?
        var unit: String?
        var updatedAt: Date?
        /// Restored after the daemon's restart, not read since: `updatedAt` is its age.
        var restored = false
    }

    struct ActuatorReport: Equatable {
        var name: String
        /// `on` or `off`, or a number or choice actuator's value; nil when never reported.
        var state: String?
        /// A number actuator's unit.
        var unit: String?
        var updatedAt: Date?
        /// Restored after the daemon's restart, not reported since.
        var restored = false
    }

    /// The state of a device that the log has never heard of.
    static let unknownPresence = "unknown"

    var id: String
    var name: String?
    var room: String?
    /// `online`, `offline`, a convention's own state, or `unknown`.
    var presence: String
    var presenceSince: Date?
    var lastSeen: Date?
    /// Restored after the daemon's restart and not confirmed since: the
    /// device goes offline unless it is heard from within its grace period.
    var provisional = false
    var sensors: [SensorReport]
    var actuators: [ActuatorReport]

    /// Every device of the log and of the definitions, by id. Sensors and
    /// actuators come in definition order, then those only the log knows.
    static func reports(snapshots: [DeviceSnapshot], home: Home) -> [DeviceReport] {
        let snapshotsByID = Dictionary(snapshots.map { ($0.state.device, $0) }) { first, _ in first }
        let ids = Set(snapshotsByID.keys).union(home.devices.map(\.id))
        return ids.sorted().map { id in
            report(snapshot: snapshotsByID[id], definition: home.device(id: id), id: id)
        }
    }

    private static func report(snapshot: DeviceSnapshot?, definition: Device?, id: String) -> DeviceReport {
        let recordedSensors = Dictionary((snapshot?.sensors ?? []).map { ($0.entity, $0) }) { first, _ in first }
        let recordedActuators = Dictionary((snapshot?.actuators ?? []).map { ($0.entity, $0) }) { first, _ in first }
        // A number or choice actuator's echo is logged as a sensor and shown as the actuator's value.
        let echoes = Set(definition?.actuators.filter { !$0.isOnOff }.map(\.name) ?? [])
        let sensorNames = merged(defined: definition?.sensors.map(\.name) ?? [], recorded: recordedSensors.keys)
            .filter { !echoes.contains($0) }
        let actuatorNames = merged(defined: definition?.actuators.map(\.name) ?? [], recorded: recordedActuators.keys)
        return DeviceReport(
            id: id,
            name: definition?.name,
            room: definition?.room,
            presence: snapshot?.state.presence ?? unknownPresence,
            presenceSince: snapshot?.state.presenceSince,
            lastSeen: snapshot?.state.lastSeen,
            sensors: sensorNames.map { name in
                let record = recordedSensors[name]
                return SensorReport(
                    name: name, value: record?.value, unit: definition?.sensor(named: name)?.unit, updatedAt: record?.updatedAt)
            },
            actuators: actuatorNames.map { name in
                let record = echoes.contains(name) ? recordedSensors[name] : recordedActuators[name]
                return ActuatorReport(
                    name: name, state: record?.value, unit: definition?.actuator(named: name)?.unit, updatedAt: record?.updatedAt)
            })
    }

    /// Marks what the daemon's saved engine state says is restored and not
    /// confirmed. The log's tables are written at once and the engine's
    /// state every few seconds, so a flag counts only while the log still
    /// shows the same presence, or the same value of the same moment.
    static func marking(_ reports: [DeviceReport], with engine: EngineSnapshot?) -> [DeviceReport] {
        guard let engine else { return reports }
        let statuses = Dictionary(engine.devices.map { ($0.id, $0) }) { first, _ in first }
        func same(_ a: Date?, _ b: Date) -> Bool { a.map { abs($0.timeIntervalSince(b)) < 0.0015 } ?? false }
        return reports.map { report in
            guard let status = statuses[report.id] else { return report }
            var report = report
            report.provisional = status.provisional && status.presence.rawValue == report.presence
            for index in report.sensors.indices {
                guard let saved = status.sensors[report.sensors[index].name], saved.restored else { continue }
                report.sensors[index].restored = same(report.sensors[index].updatedAt, saved.updatedAt)
            }
            for index in report.actuators.indices {
                guard let saved = status.actuators[report.actuators[index].name], saved.restored else { continue }
                report.actuators[index].restored = same(report.actuators[index].updatedAt, saved.updatedAt)
            }
            return report
        }
    }

    private static func merged(defined: [String], recorded: Dictionary<String, EntityStateRecord>.Keys) -> [String] {
        defined + recorded.filter { !defined.contains($0) }.sorted()
    }
}

// MARK: - JSON

/// The `--json` form: every key always present (null when unknown), so that
/// scripts can rely on the shape; times in ISO 8601 UTC with milliseconds,
/// as in the event JSON.
extension DeviceReport: Encodable {
    private enum CodingKeys: String, CodingKey {
        case id, name, room, presence, presenceSince, lastSeen, provisional, sensors, actuators
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(room, forKey: .room)
        try container.encode(presence, forKey: .presence)
        try container.encode(presenceSince.map(JSONTime.text), forKey: .presenceSince)
        try container.encode(lastSeen.map(JSONTime.text), forKey: .lastSeen)
        try container.encode(provisional, forKey: .provisional)
        try container.encode(sensors, forKey: .sensors)
        try container.encode(actuators, forKey: .actuators)
    }

    /// The reports as a JSON array on one line, one device per element.
    static func json(_ reports: [DeviceReport]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, nulls and arrays of them always encode.
        let data = (try? encoder.encode(reports)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension DeviceReport.SensorReport: Encodable {
    private enum CodingKeys: String, CodingKey { case name, value, unit, updatedAt, restored }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(value, forKey: .value)
        try container.encode(unit, forKey: .unit)
        try container.encode(updatedAt.map(JSONTime.text), forKey: .updatedAt)
        try container.encode(restored, forKey: .restored)
    }
}

extension DeviceReport.ActuatorReport: Encodable {
    private enum CodingKeys: String, CodingKey { case name, state, updatedAt, restored }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(state, forKey: .state)
        try container.encode(updatedAt.map(JSONTime.text), forKey: .updatedAt)
        try container.encode(restored, forKey: .restored)
    }
}

/// Times in JSON output: `2026-11-27T21:04:10.123Z`, as `Event.json()` writes them.
enum JSONTime {
    /// The nearest millisecond. The formatter cuts digits off, and a time
    /// read back from the database (`.831` stored as `.830999…`) would lose
    /// a millisecond; a quarter of one more keeps it.
    static func text(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        return Date(timeIntervalSince1970: (milliseconds + 0.25) / 1000)
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
