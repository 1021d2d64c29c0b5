import ArgumentParser
import EventLog
import Foundation
import HomeRules
import Rules

/// `homerules devices`: every device, its presence, last message, sensor
/// values and actuator states, from the event log.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "Show every device: presence, last seen, sensor values and actuator states.",
        discussion: """
            Reads the event log that `homerules serve` writes (read-only, so it works while the daemon runs). \
            Names and units come from the device files; devices that are defined but were never heard of are \
            listed as unknown. After the daemon restarted, presence and values it restored from before are marked \
            as such, with their age, until the device confirms them.
            """
    )

    @OptionGroup var devices: DevicesOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print a JSON array, one object per device, for scripts.")
    var json = false

    func run() throws {
        let home = try devices.loadDevices()
        let (snapshots, engine, overrides) = try database.read { database in
            // The engine's saved state only marks what is restored: a log without it is still read.
            let engine = try? database.stateValue(forKey: EngineSnapshot.storageKey)
                .flatMap { try JSONDecoder().decode(EngineSnapshot.self, from: $0) }
            return (try database.devices(), engine, RuleControl.overrides(in: database))
        }
        let reports = DeviceReport.marking(DeviceReport.reports(snapshots: snapshots, home: home), with: engine)
        if json {
            print(DeviceReport.json(reports))
        } else if reports.isEmpty {
            print("No devices: the event log has none and \(devices.devicesDirectory) defines none.")
        } else {
            print(Self.table(reports, time: TimeText()), terminator: "")
        }
        let disabled = overrides.filter { !$0.value }.keys.sorted()
        if !json, !disabled.isEmpty {
            print("Disabled with `homerules rules disable`: \(disabled.joined(separator: ", ")) (`homerules rules enable RULE` turns one back on).")
        }
    }

    static func table(_ reports: [DeviceReport], time: TimeText) -> String {
        let showsNames = reports.contains { $0.name != nil }
        var table = TextTable(header: ["DEVICE"] + (showsNames ? ["NAME"] : []) + ["PRESENCE", "LAST SEEN", "SENSORS", "ACTUATORS"])
        for report in reports {
            func entry(_ name: String, _ value: String?, _ unit: String?, _ isRestored: Bool, _ updatedAt: Date?) -> String {
                let shown = value.map { value in unit.map { "\(value) \($0)" } ?? value }
                return "\(name) \(shown ?? "–")\(restored(isRestored, updatedAt, time: time))"
            }
            let sensors = report.sensors.map { entry($0.name, $0.value, $0.unit, $0.restored, $0.updatedAt) }
            let actuators = report.actuators.map { entry($0.name, $0.state, $0.unit, $0.restored, $0.updatedAt) }
            table.rows.append(
                [report.id] + (showsNames ? [report.name ?? "–"] : []) + [
                    presence(of: report, time: time),
                    report.lastSeen.map(time.ago) ?? "never",
                    sensors.isEmpty ? "–" : sensors.joined(separator: ", "),
                    actuators.isEmpty ? "–" : actuators.joined(separator: ", "),
                ])
        }
        return table.rendered()
    }

    /// `online for 3 h`, `offline since 21:04`: how long a device has been
    /// up, and since when it has been down.
    static func presence(of report: DeviceReport, time: TimeText) -> String {
        if report.provisional {
            let heard = (report.lastSeen ?? report.presenceSince).map { ", last heard \(time.ago($0))" } ?? ""
            return "\(report.presence)? (restored, unconfirmed\(heard))"
        }
        guard let since = report.presenceSince else { return report.presence }
        if report.presence == "online" { return "online for \(time.elapsed(since: since))" }
        return "\(report.presence) since \(time.shortMoment(since))"
    }

    /// ` (restored, 2 h old)` after a value restored from before a restart.
    static func restored(_ restored: Bool, _ updatedAt: Date?, time: TimeText) -> String {
        guard restored else { return "" }
        return updatedAt.map { " (restored, \(time.elapsed(since: $0)) old)" } ?? " (restored)"
    }
}
