import Foundation
import GRDB

/// Why the event log cannot be used, said so that a user knows what to do.
public enum EventLogError: Error, CustomStringConvertible, Equatable {
    case missingDatabase(String)
    /// An SQLite database that is not an event log, with its tables.
    case notAnEventLog(String, tables: [String])
    /// The file cannot be opened, read or written: what is wrong, and what to do.
    case unusable(String, problem: String, advice: String)

    public var description: String {
        switch self {
        case .missingDatabase(let path):
            "\(path): no such database (has `homerules serve` run here?)"
        case .notAnEventLog(let path, let tables):
            "\(path) is an SQLite database but not a HomeRules event log"
                + (tables.isEmpty ? "" : " (it holds the tables \(tables.joined(separator: ", ")))")
                + "; HomeRules will not add its tables to it: give --database another file"
        case .unusable(let path, let problem, let advice):
            "\(path): \(problem); \(advice)"
        }
    }

    /// The error for a failure of SQLite on the file at `path`, in words:
    /// damaged, not a database, locked, read-only, full, or unreadable.
    public static func describing(_ error: any Error, path: String) -> EventLogError {
        if let error = error as? EventLogError { return error }
        // SQLite calls a directory a disk I/O error.
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let example = (path as NSString).appendingPathComponent("homerules.sqlite")
            return .unusable(path, problem: "a directory, not a database file", advice: "give --database a file, such as \(example)")
        }
        guard let error = error as? DatabaseError else {
            return .unusable(path, problem: "\(error)", advice: "check the file and the disk")
        }
        let sqlite = error.message.map { " (SQLite: \($0))" } ?? ""
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return .unusable(
                path, problem: "not an SQLite database, or an encrypted one",
                advice: "give --database another file, or move this one away to start a new log")
        case .SQLITE_CORRUPT:
            return .unusable(
                path, problem: "the database is damaged\(sqlite)",
                advice: "stop here and keep a copy; `sqlite3 \(path) .recover` may save its events, "
                    + "and moving it away starts a new log")
        case .SQLITE_CANTOPEN:
            return .unusable(
                path, problem: "cannot be opened\(sqlite)",
                advice: "check that its folder exists and that this user may read and write there")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            return .unusable(
                path, problem: "cannot be written\(sqlite)",
                advice: "this user must be able to write the file and its folder (SQLite adds -wal and -shm files beside it)")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .unusable(
                path, problem: "locked by another program\(sqlite)",
                advice: "is another `homerules serve` using it? Stop it, or give --database another file")
        case .SQLITE_FULL:
            return .unusable(path, problem: "the disk is full", advice: "free some space; nothing already written is lost")
        case .SQLITE_IOERR:
            return .unusable(path, problem: "the disk reported an error\(sqlite)", advice: "check the disk and the file system")
        default:
            return .unusable(path, problem: "SQLite failed\(sqlite)", advice: "check the file and the disk")
        }
    }
}
