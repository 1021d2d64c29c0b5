#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing the password and ACL files, with errors that name
/// the file (through `POSIXFile`).
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
        switch POSIXFile.read(path) {
        case .success(let bytes): return bytes
        case .failure(.cannotOpen(let code)): throw failure(path, "cannot open the file", code)
        case .failure(.cannotRead(let code)): throw failure(path, "cannot read the file", code)
        case .failure(.tooLarge): throw failure(path, "cannot read the file", EFBIG)
        }
    }

    /// Replaces the file at `path` with `text`, atomically (see
    /// `POSIXFile.replace`): the broker reloading sees the old file or the
    /// new one, never half of one. A file already there is edited: it must
    /// be writable and keeps its owner and mode; a new one gets `mode`.
    static func write(_ text: String, to path: String, mode: mode_t) throws(AuthFileError) {
        guard case .failure(let problem) = POSIXFile.replace(path, with: Array(text.utf8), mode: mode, existing: .edited)
        else { return }
        let what = switch problem.step {
        case .createTemporary: "cannot create a temporary file beside it"
        case .setMode: "cannot set the mode of the new file"
        case .write: "cannot write the file"
        case .replace: "cannot replace the file"
        }
        throw failure(path, what, problem.errno)
    }

    private static func failure(_ path: String, _ what: String, _ code: Int32) -> AuthFileError {
        AuthFileError([AuthFileDiagnostic(.error, path: path, line: nil, message: "\(what): \(systemReason(code))")])
    }
}
