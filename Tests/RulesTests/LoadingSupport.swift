import Foundation
@testable import Rules

/// Loads a home from YAML texts keyed by file name (`devices/<name>`, `rules/<name>`).
func loadHome(devices: [String: String] = [:], rules: [String: String] = [:]) -> Result<Home, DiagnosticList> {
    HomeLoader.load(
        deviceFiles: devices.sorted { $0.key < $1.key }.map { SourceFile(path: "devices/\($0.key)", text: $0.value) },
        ruleFiles: rules.sorted { $0.key < $1.key }.map { SourceFile(path: "rules/\($0.key)", text: $0.value) })
}

/// The rendered diagnostics of a load that must fail.
func errors(devices: [String: String] = [:], rules: [String: String] = [:]) -> [String] {
    switch loadHome(devices: devices, rules: rules) {
    case .success: ["(loaded without errors)"]
    case .failure(let list): list.diagnostics.map(\.description)
    }
}

struct LoadFailed: Error, CustomStringConvertible {
    var description: String
}

/// A home that must load.
func validHome(devices: [String: String] = [:], rules: [String: String] = [:]) throws -> Home {
    switch loadHome(devices: devices, rules: rules) {
    case .success(let home): return home
    case .failure(let list): throw LoadFailed(description: list.description)
    }
}

/// A temporary directory removed when the value goes away.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("rules-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ relativePath: String, _ text: String) throws {
        let file = url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

/// The livingroom node of ARCHITECTURE.md, the device most tests use.
let livingroomNode = """
    id: livingroom-node
    name: Living room ESP8266
    presence:
      topic: home/livingroom-node/status
      online: online
      offline: offline
    sensors:
      temperature: { topic: home/livingroom-node/temperature, type: number, unit: "°C" }
      motion: { topic: home/livingroom-node/motion, type: boolean }
      mode: { topic: home/livingroom-node/mode, type: string }
    actuators:
      led:
        command_topic: home/livingroom-node/led/set
        state_topic: home/livingroom-node/led
        payloads: { on: "on", off: "off" }
    """
