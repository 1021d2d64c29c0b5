import ArgumentParser
import EventLog

extension DatabaseOptions {
    /// Opens the log read-only and runs `body` on it; any failure becomes a
    /// clear message on stderr and exit status 1.
    func read<Result>(_ body: (EventDatabase) throws -> Result) throws -> Result {
        let database = try openReadOnly()
        do {
            return try body(database)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: cannot read \(EventLogError.describing(error, path: databasePath))")
            throw ExitCode(1)
        }
    }
}
