#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing certificates and keys so that a key is never readable by others,
/// not even for a moment, and a reader never sees half a file.
enum CertificateFiles {
    /// Certificates are public.
    static let certificateMode: mode_t = 0o644
    /// Whoever reads a key can be the broker, or sign for the home.
    static let privateKeyMode: mode_t = 0o600
    /// A directory made for keys is its owner's alone.
    static let directoryMode: mode_t = 0o700

    /// Makes `path` with ``directoryMode`` unless it exists; missing
    /// parents get the usual mode, as `mkdir -p` gives them.
    static func makeDirectory(_ path: String) throws(HomeCertificateError) {
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else { throw .cannotWrite(path: path, reason: "it exists and is not a directory") }
            return
        }
        try makeParents(of: path)
        guard mkdir(path, directoryMode) == 0 else { throw .cannotWrite(path: path, reason: lastError()) }
        chmod(path, directoryMode)
    }

    private static func makeParents(of path: String) throws(HomeCertificateError) {
        let parent = parentDirectory(of: path)
        guard parent != path, !exists(parent) else { return }
        try makeParents(of: parent)
        guard mkdir(parent, 0o777) == 0 || errno == EEXIST else { throw .cannotWrite(path: parent, reason: lastError()) }
    }

    /// Writes `text` to `path` with `mode` (see `POSIXFile.replace`): the
    /// mode is set before any byte is written, and `path` holds either the
    /// old file or the whole new one.
    static func writeFile(_ text: String, to path: String, mode: mode_t) throws(HomeCertificateError) {
        if case .failure(let problem) = POSIXFile.replace(path, with: Array(text.utf8), mode: mode) {
            throw .cannotWrite(path: path, reason: systemReason(problem.errno))
        }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    private static func parentDirectory(of path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
