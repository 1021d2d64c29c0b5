import Foundation
import Yams

/// Loads and validates a home from `devices/` and `rules/` directories.
///
/// Every problem in every file is collected, so that one run shows all there
/// is to fix; each renders as `path:line:column: error: message`.
///
/// An absent directory counts as empty: the daemon starts with no
/// configuration at all. A path that exists but is not a directory is an
/// error.
public enum HomeLoader {
    /// The file extensions read from the directories.
    public static let fileExtensions: Set<String> = ["yaml", "yml"]

    /// Loads every `.yaml` and `.yml` file under the two directories
    /// (subdirectories included, hidden files skipped, in path order).
    public static func load(devicesDirectory: URL, rulesDirectory: URL) -> Result<Home, DiagnosticList> {
        var diagnostics = DiagnosticCollector()
        let deviceFiles = sourceFiles(in: devicesDirectory, diagnostics: &diagnostics)
        let ruleFiles = sourceFiles(in: rulesDirectory, diagnostics: &diagnostics)
        return load(deviceFiles: deviceFiles, ruleFiles: ruleFiles, diagnostics: diagnostics)
    }

    /// Loads the devices only, for commands that never evaluate rules
    /// (`homerules set`, `simulate`): a broken rule file does not stop them.
    public static func loadDevices(from devicesDirectory: URL) -> Result<Home, DiagnosticList> {
        var diagnostics = DiagnosticCollector()
        let deviceFiles = sourceFiles(in: devicesDirectory, diagnostics: &diagnostics)
        return load(deviceFiles: deviceFiles, ruleFiles: [], diagnostics: diagnostics)
    }

    /// Loads a home from sources in memory.
    public static func load(deviceFiles: [SourceFile], ruleFiles: [SourceFile]) -> Result<Home, DiagnosticList> {
        load(deviceFiles: deviceFiles, ruleFiles: ruleFiles, diagnostics: DiagnosticCollector())
    }

    private static func load(
        deviceFiles: [SourceFile], ruleFiles: [SourceFile], diagnostics initial: DiagnosticCollector
    ) -> Result<Home, DiagnosticList> {
        var diagnostics = initial
        var devices: [Device] = []
        var deviceLocations: [String: SourceLocation] = [:]
        var brokenMembers: [String: Set<String>] = [:]
        for file in deviceFiles {
            var parser = DeviceParser(path: file.path)
            for parsed in parser.devices(in: file.text) {
                if let first = deviceLocations[parsed.id] {
                    parser.reader.error("duplicate device id '\(parsed.id)' (first defined at \(first))", at: parsed.idNode)
                    continue
                }
                deviceLocations[parsed.id] = parsed.location
                brokenMembers[parsed.id] = parsed.brokenMembers
                devices.append(parsed.value)
            }
            diagnostics.append(parser.reader.diagnostics)
        }
        let devicesByID = Dictionary(devices.map { ($0.id, $0) }) { first, _ in first }
        var rules: [Rule] = []
        var ruleLocations: [String: SourceLocation] = [:]
        for file in ruleFiles {
            var parser = RuleParser(path: file.path, devices: devicesByID, brokenMembers: brokenMembers)
            for parsed in parser.rules(in: file.text) {
                if let first = ruleLocations[parsed.id] {
                    parser.reader.error("duplicate rule id '\(parsed.id)' (first defined at \(first))", at: parsed.idNode)
                    continue
                }
                ruleLocations[parsed.id] = parsed.location
                rules.append(parsed.value)
            }
            diagnostics.append(parser.reader.diagnostics)
        }
        guard diagnostics.isEmpty else { return .failure(DiagnosticList(diagnostics.diagnostics)) }
        return .success(Home(devices: devices, rules: rules))
    }

    /// The YAML files under `directory`, with paths shown relative to the
    /// directory as the caller named it.
    private static func sourceFiles(in directory: URL, diagnostics: inout DiagnosticCollector) -> [SourceFile] {
        var shownRoot = directory.relativePath
        while shownRoot.hasPrefix("./") { shownRoot.removeFirst(2) }
        while shownRoot.count > 1, shownRoot.hasSuffix("/") { shownRoot.removeLast() }
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else {
            diagnostics.error("'\(shownRoot)' is not a directory", at: SourceLocation(path: shownRoot, line: 1, column: 1))
            return []
        }
        var files: [SourceFile] = []
        for relative in yamlPaths(under: directory.path, fileManager: fileManager) {
            let shown = shownRoot == "." ? relative : shownRoot + "/" + relative
            let location = SourceLocation(path: shown, line: 1, column: 1)
            guard let data = fileManager.contents(atPath: directory.path + "/" + relative) else {
                diagnostics.error("cannot read the file", at: location)
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                diagnostics.error(invalidUTF8Message, at: invalidUTF8Location(in: data, path: shown))
                continue
            }
            files.append(SourceFile(path: shown, text: text))
        }
        return files
    }

    /// Whether `directory` holds a `.yaml` or `.yml` file, at any depth.
    public static func containsYAMLFiles(_ directory: URL) -> Bool {
        !yamlPaths(under: directory.path, fileManager: .default).isEmpty
    }

    /// What is said at ``invalidUTF8Location(in:path:)``.
    public static let invalidUTF8Message = "the file is not valid UTF-8 here; save it as UTF-8"

    /// Where the first byte that is not UTF-8 is, counting columns in
    /// characters as editors do.
    public static func invalidUTF8Location(in data: Data, path: String) -> SourceLocation {
        var bytes = data.makeIterator()
        var decoder = UTF8()
        var (line, column) = (1, 1)
        while case .scalarValue(let scalar) = decoder.decode(&bytes) {
            if scalar == "\n" {
                (line, column) = (line + 1, 1)
            } else {
                column += 1
            }
        }
        return SourceLocation(path: path, line: line, column: column)
    }

    /// Paths relative to `root` of the YAML files below it, sorted.
    private static func yamlPaths(under root: String, fileManager: FileManager) -> [String] {
        var result: [String] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let absolute = relative.isEmpty ? root : root + "/" + relative
            guard let names = try? fileManager.contentsOfDirectory(atPath: absolute) else { continue }
            for name in names where !name.hasPrefix(".") {
                let child = relative.isEmpty ? name : relative + "/" + name
                var isDirectory: ObjCBool = false
                guard fileManager.fileExists(atPath: root + "/" + child, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    pending.append(child)
                } else if fileExtensions.contains((name as NSString).pathExtension.lowercased()) {
                    result.append(child)
                }
            }
        }
        return result.sorted()
    }
}

/// An entry of a file with an id: the id is known even when the entry has
/// errors, so duplicates are reported in the same run.
struct Parsed<Value> {
    var id: String
    var idNode: Node
    var location: SourceLocation
    /// What could be read; only used when the load found no errors.
    var value: Value
    /// Names of sensors and actuators that have errors of their own, so
    /// that rules naming them do not add "no such sensor" errors.
    var brokenMembers: Set<String> = []
}

extension DiagnosticCollector {
    mutating func append(_ other: DiagnosticCollector) {
        for diagnostic in other.diagnostics { error(diagnostic.message, at: diagnostic.location) }
    }
}
