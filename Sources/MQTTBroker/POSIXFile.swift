#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic replacement with POSIX calls (the broker's
/// library does without Foundation): password and ACL files, certificates
/// and keys. Callers turn the failures into their own errors.
enum POSIXFile {
    enum ReadFailure: Error {
        case cannotOpen(errno: Int32)
        case cannotRead(errno: Int32)
        case tooLarge
    }

    /// The step of a replacement that failed, and the system's reason.
    struct WriteFailure: Error {
        enum Step { case createTemporary, setMode, write, replace }
        let step: Step
        let errno: Int32
    }

    /// Every byte of the file, or why not; more than `limit` bytes is a failure.
    static func read(_ path: String, limit: Int = .max) -> Result<[UInt8], ReadFailure> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(.cannotOpen(errno: errno)) }
        defer { close(descriptor) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return .success(bytes) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(.cannotRead(errno: errno))
            }
            bytes += chunk[..<count]
            if bytes.count > limit { return .failure(.tooLarge) }
        }
    }

    /// What becomes of a file that `replace` finds in place.
    enum ExistingFile {
        /// It is replaced by a file with the given mode.
        case replaced
        /// It is edited, as `mosquitto_passwd` edits its file in place: the
        /// caller must be allowed to write it (a read-only file is refused,
        /// though the rename would get past its mode), and it keeps its mode.
        case edited
    }

    /// Replaces the file at `path` with `bytes`, atomically: a reader sees
    /// the old file or the whole new one. The new file has its mode (`mode`,
    /// or an edited file's own) before any byte is written; it keeps the
    /// owner of the file it replaces when the caller may set that (root
    /// editing the broker's file). A symbolic link is followed, as
    /// `mosquitto_passwd` does, and stays.
    static func replace(
        _ givenPath: String, with bytes: [UInt8], mode: mode_t, existing: ExistingFile = .replaced
    ) -> Result<Void, WriteFailure> {
        let path = resolvingSymbolicLinks(givenPath)
        var mode = mode
        var current = stat()
        if existing == .edited, stat(path, &current) == 0 {
            guard faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0 else {
                return .failure(WriteFailure(step: .write, errno: errno))
            }
            mode = current.st_mode & 0o7777
        }
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { return .failure(WriteFailure(step: .createTemporary, errno: errno)) }
        let temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let written = fill(descriptor, with: bytes, mode: mode, owner: path)
        close(descriptor)
        if case .failure = written {
            unlink(temporaryPath)
            return written
        }
        guard rename(temporaryPath, path) == 0 else {
            let code = errno
            unlink(temporaryPath)
            return .failure(WriteFailure(step: .replace, errno: code))
        }
        return .success(())
    }

    private static func fill(_ descriptor: Int32, with bytes: [UInt8], mode: mode_t, owner path: String) -> Result<Void, WriteFailure> {
        guard fchmod(descriptor, mode) == 0 else { return .failure(WriteFailure(step: .setMode, errno: errno)) }
        var existing = stat()
        if stat(path, &existing) == 0 { _ = fchown(descriptor, existing.st_uid, existing.st_gid) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 {
                offset += count
            } else if errno != EINTR {
                return .failure(WriteFailure(step: .write, errno: errno))
            }
        }
        guard fsync(descriptor) == 0 else { return .failure(WriteFailure(step: .write, errno: errno)) }
        return .success(())
    }

    /// The path with its links resolved; the path as given when it does not exist yet.
    private static func resolvingSymbolicLinks(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// The system's words for an errno.
func systemReason(_ code: Int32) -> String {
    String(cString: strerror(code))
}

// File-scope names for the C calls, which `POSIXFile.read` would shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
