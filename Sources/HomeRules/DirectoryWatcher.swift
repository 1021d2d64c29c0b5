import Foundation

/// Notices changes to the YAML files of some directories by polling their
/// names, sizes and modification times: portable, and cheap for the few
/// dozen files a home has.
struct DirectoryWatcher {
    let directories: [URL]
    /// The files as of the last reported change (or the start).
    private var settled: [String]
    /// The files as of the last poll.
    private var previous: [String]

    init(directories: [URL]) {
        self.directories = directories
        settled = Self.fingerprint(of: directories)
        previous = settled
    }

    /// Whether the files changed. A change is reported once they have stood
    /// still for one poll, so that an editor saving in several steps causes
    /// one reload.
    mutating func poll() -> Bool {
        let current = Self.fingerprint(of: directories)
        defer { previous = current }
        guard current == previous, current != settled else { return false }
        settled = current
        return true
    }

    private static func fingerprint(of directories: [URL]) -> [String] {
        var entries: [String] = []
        for directory in directories {
            guard let enumerator = FileManager.default.enumerator(
                at: directory, includingPropertiesForKeys: [.contentModificationDateKey, .fileSizeKey],
                options: [.skipsHiddenFiles])
            else { continue }
            for case let url as URL in enumerator where ["yaml", "yml"].contains(url.pathExtension.lowercased()) {
                let values = try? url.resourceValues(forKeys: [.contentModificationDateKey, .fileSizeKey])
                let modified = values?.contentModificationDate?.timeIntervalSince1970 ?? 0
                entries.append("\(url.path)|\(modified)|\(values?.fileSize ?? -1)")
            }
        }
        return entries.sorted()
    }
}
