import Foundation

/// The example home as the repository ships it. Tests that need known
/// devices and rules copy these files by name, so that a user's own files
/// beside them in `devices/` and `rules/` change no test's outcome.
public enum ExampleHomeFiles {
    /// The repository's root folder.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let devices = ["devices/bedroom-sensor.yaml", "devices/desk-plug.yaml", "devices/livingroom-node.yaml"]
    public static let rules = ["rules/alerts.yaml", "rules/livingroom.yaml", "rules/night.yaml"]

    /// Copies the shipped files into `directory`, under `devices/` and `rules/`.
    public static func copy(to directory: URL, devicesOnly: Bool = false) throws {
        for folder in ["devices", "rules"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for file in devices + (devicesOnly ? [] : rules) {
            try FileManager.default.copyItem(
                at: repositoryRoot.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
    }

    /// The text of a shipped file, by its path from the root.
    public static func text(_ file: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent(file), encoding: .utf8)
    }
}
