import Foundation

/// Asks for a new password as `mosquitto_passwd` does: twice, on the
/// terminal, without echo. When standard input is not a terminal (a script,
/// a pipe), its first line is the password and a second line, if there is
/// one, must repeat it.
enum PasswordPrompt {
    struct Mismatch: Error, CustomStringConvertible {
        var description: String { "the passwords do not match" }
    }

    struct NoInput: Error, CustomStringConvertible {
        var description: String { "no password on standard input" }
    }

    static func readNewPassword() throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            guard let password = readLine(strippingNewline: true) else { throw NoInput() }
            if let repeated = readLine(strippingNewline: true), repeated != password { throw Mismatch() }
            return password
        }
        let password = try withoutEcho { ask("Password: ") }
        let repeated = try withoutEcho { ask("Reenter password: ") }
        guard password == repeated else { throw Mismatch() }
        return password
    }

    private static func ask(_ prompt: String) -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        defer { FileHandle.standardError.write(Data("\n".utf8)) }  // the Return the user typed was not echoed
        return readLine(strippingNewline: true) ?? ""
    }

    /// Runs `body` with the terminal's echo off, and restores it afterwards,
    /// on Ctrl-C too.
    private static func withoutEcho<T>(_ body: () throws -> T) throws -> T {
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return try body() }
        savedTerminal = settings
        settings.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &settings)
        let previousHandler = signal(SIGINT, restoreTerminalAndExit)
        defer {
            restoreTerminal()
            signal(SIGINT, previousHandler)
        }
        return try body()
    }
}

/// The terminal settings to put back; written before the handler that reads it is installed.
nonisolated(unsafe) private var savedTerminal = termios()

private func restoreTerminal() {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &savedTerminal)
}

/// tcsetattr and _exit are async-signal-safe.
private func restoreTerminalAndExit(_ signal: Int32) {
    restoreTerminal()
    _exit(130)
}
