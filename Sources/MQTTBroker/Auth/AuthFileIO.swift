#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing the password and ACL files, with POSIX calls: the
/// broker's library does not use Foundation.
enum AuthFileIO {
    /// The file's text. Errors name the file (and the line of a byte that
    /// is not UTF-8).
    static func read(path: String) throws(AuthFileError) -> String {
        let bytes = try readBytes(path: path)
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let badLine = lines.firstIndex { String(validating: $0, as: UTF8.self) == nil } ?? 0
        throw AuthFileError([AuthFileDiagnostic(.error, path: path, line: badLine + 1, message: "the line is not valid UTF-8")])
    }

    private static func readBytes(path: String) throws(AuthFileError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path, "cannot open the file", errno) }
        defer { close(descriptor) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[..<count])
            } else if count == 0 {
                return bytes
            } else if errno != EINTR {
                throw failure(path, "cannot read the file", errno)
            }
        }
    }

    /// Replaces the file at `path` with `text`, atomically: a reader (the
    /// broker reloading) sees the old file or the new one, never half of
    /// one. The new file has `mode`; it keeps the owner of the file it
    /// replaces when the caller may set that (root editing the broker's file).
    /// A symbolic link is followed, as `mosquitto_passwd` does, and stays.
    static func write(_ text: String, to givenPath: String, mode: mode_t) throws(AuthFileError) {
        let path = resolvingSymbolicLinks(givenPath)
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw failure(givenPath, "cannot create a temporary file beside it", errno) }
        let temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var succeeded = false
        defer {
            if !succeeded { unlink(temporaryPath) }
        }
        do {
            defer { close(descriptor) }
            guard fchmod(descriptor, mode) == 0 else { throw failure(givenPath, "cannot set the mode of the new file", errno) }
            var existing = stat()
            if stat(path, &existing) == 0 { _ = fchown(descriptor, existing.st_uid, existing.st_gid) }
            try writeAll(Array(text.utf8), to: descriptor, path: givenPath)
            guard fsync(descriptor) == 0 else { throw failure(givenPath, "cannot write the file", errno) }
        }
        guard rename(temporaryPath, path) == 0 else { throw failure(givenPath, "cannot replace the file", errno) }
        succeeded = true
    }

    /// The path with its links resolved; the path as given when it does not exist yet.
    private static func resolvingSymbolicLinks(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(AuthFileError) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 {
                offset += count
            } else if errno != EINTR {
                throw failure(path, "cannot write the file", errno)
            }
        }
    }

    private static func failure(_ path: String, _ what: String, _ code: Int32) -> AuthFileError {
        AuthFileError([AuthFileDiagnostic(.error, path: path, line: nil, message: "\(what): \(String(cString: strerror(code)))")])
    }
}

// File-scope names for the C calls, which the static methods above would shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
