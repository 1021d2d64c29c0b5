import ArgumentParser
import MQTTBroker

/// `homerules passwd`: Mosquitto's `mosquitto_passwd`, for the broker's
/// `password_file`. The files work with Mosquitto 2.0 and the other way round.
struct PasswdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Add, change or delete users of a Mosquitto password file.",
        usage: """
            homerules passwd [-c] [-H sha512-pbkdf2|sha512] [-I iterations] FILE USER
            homerules passwd [-c] -b [-H sha512-pbkdf2|sha512] [-I iterations] FILE USER PASSWORD
            homerules passwd -D FILE USER
            homerules passwd -U FILE
            """,
        discussion: """
            As mosquitto_passwd does. Without -b the password is asked twice on the terminal, without echo; when \
            standard input is not a terminal its first line is the password (and a second line, if any, must \
            repeat it). Hashes are PBKDF2-SHA512 with 101 iterations and a 12-byte salt, what mosquitto_passwd \
            2.0 writes. The file is replaced atomically; a new one has mode 0600, one already there keeps its \
            owner and mode, and is refused when you may not write it (as mosquitto_passwd refuses). Comments and blank lines are kept. \
            With -c and FILE '-', the file is printed instead. Exit status: 0 done; 1 an error (the file, the \
            user name, the password, a user to delete that is not there).
            """
    )

    @Flag(name: .customShort("c"), help: "Create the file, replacing one that exists.")
    var create = false

    @Flag(name: .customShort("b"), help: "Batch mode: take the password from the command line.")
    var batch = false

    @Flag(name: .customShort("D"), help: "Delete the user.")
    var delete = false

    @Flag(name: .customShort("U"), help: "Hash the passwords of a file of plain-text user:password lines.")
    var upgrade = false

    @Option(name: .customShort("H"), help: ArgumentHelp("The hash: sha512-pbkdf2, or sha512 as Mosquitto 1.6 wrote.", valueName: "hash"))
    var hash: HashName = .pbkdf2

    @Option(name: .customShort("I"), help: ArgumentHelp("PBKDF2 iterations (default 101).", valueName: "iterations"))
    var iterations: Int?

    @Argument(help: ArgumentHelp("The password file.", valueName: "file"))
    var file: String

    @Argument(help: ArgumentHelp("The user name.", valueName: "user"))
    var username: String?

    @Argument(help: ArgumentHelp("The password, with -b.", valueName: "password"))
    var password: String?

    enum HashName: String, ExpressibleByArgument {
        case pbkdf2 = "sha512-pbkdf2"
        case sha512
    }

    func validate() throws {
        if create && delete { throw ValidationError("-c and -D cannot be used together.") }
        if create && upgrade { throw ValidationError("-c and -U cannot be used together.") }
        if delete && upgrade { throw ValidationError("-D and -U cannot be used together.") }
        if delete && batch { throw ValidationError("-b and -D cannot be used together.") }
        if let iterations, iterations < 1 || iterations > PasswordHash.maximumIterations {
            throw ValidationError("The number of iterations must be from 1 to \(PasswordHash.maximumIterations).")
        }
        if iterations != nil && hash == .sha512 { throw ValidationError("-I applies to sha512-pbkdf2 only.") }
        if upgrade {
            guard username == nil else { throw ValidationError("-U takes the password file only.") }
            return
        }
        guard username != nil else { throw ValidationError("Missing the user name.") }
        if batch && password == nil { throw ValidationError("-b needs the password on the command line.") }
        if !batch && password != nil { throw ValidationError("A password on the command line needs -b.") }
        if file == "-" && !create { throw ValidationError("FILE '-' (standard output) needs -c.") }
    }

    func run() throws {
        do {
            if upgrade {
                try upgradeFile()
            } else if delete {
                try deleteUser(username!)
            } else {
                try setPassword(for: username!)
            }
        } catch let error as AuthFileError {
            printError(error.description)  // already path:line:column: error: ...
            throw ExitCode(1)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    private var scheme: PasswordHash.Scheme {
        switch hash {
        case .sha512: .sha512
        case .pbkdf2: iterations.map { .pbkdf2SHA512(iterations: $0) } ?? PasswordHash.defaultScheme
        }
    }

    private func setPassword(for username: String) throws {
        do {
            try PasswordFile.validate(username: username)
        } catch {
            throw PasswdFailure(message: "\(error)")
        }
        // Read the file first, so that a typo in its name costs no password typing.
        var passwords = create ? PasswordFile() : try PasswordFile.load(path: file)
        let newPassword = try password ?? PasswordPrompt.readNewPassword()
        guard !newPassword.isEmpty else { throw PasswdFailure(message: "the password is empty") }
        guard newPassword.utf8.count <= 65_535 else { throw PasswdFailure(message: "the password is longer than 65535 bytes") }
        try passwords.set(username: username, password: Array(newPassword.utf8), scheme: scheme)
        if file == "-" {
            print(passwords.rendered(), terminator: "")
        } else {
            try passwords.write(to: file)
        }
    }

    private func deleteUser(_ username: String) throws {
        var passwords = try PasswordFile.load(path: file)
        guard passwords.remove(username: username) else {
            throw PasswdFailure(message: "user \(username) is not in \(file)")
        }
        try passwords.write(to: file)
    }

    private func upgradeFile() throws {
        let upgrade = try PasswordFile.upgrading(path: file, scheme: scheme)
        for user in upgrade.alreadyHashed {
            printError("note: the password of \(user) is already hashed; it is left as it is")
        }
        try upgrade.file.write(to: file)
    }
}

/// A failure of `homerules passwd` that is not about the file's contents.
private struct PasswdFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
