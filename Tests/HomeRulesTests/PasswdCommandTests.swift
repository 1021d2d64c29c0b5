import Foundation
import MQTTBroker
import TestSupport
import Testing

/// `homerules passwd` run as a user runs it, its files checked by the real
/// Mosquitto (the broker accepts the users) and by `mosquitto_passwd`.
@Suite("homerules passwd", .timeLimit(.minutes(5)))
struct PasswdCommandTests {
    private func passwd(_ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
        try await run(HomeRulesBinary.path, ["passwd"] + arguments, stdin: stdin)
    }

    /// Whether Mosquitto lets `user` in with `password` (mosquitto_pub's exit status).
    private func mosquittoAccepts(_ broker: MosquittoBroker, _ user: String, _ password: String) async throws -> Bool {
        let result = try await run(try Peers.require("mosquitto_pub"), [
            "-h", "127.0.0.1", "-p", "\(broker.port)", "-u", user, "-P", password, "-t", "check", "-m", "x",
        ])
        return result.status == 0
    }

    private func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test(.enabled(if: Peers.enabled("mosquitto", "mosquitto_pub")))
    func mosquittoAcceptsTheUsersItWrites() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        #expect(try await passwd(["-c", "-b", path, "jake", "1234"]).status == 0)
        #expect(try await passwd(["-b", path, "ann", "two words"]).status == 0)
        #expect(try await passwd(["-b", "-H", "sha512", path, "old", "legacy"]).status == 0)
        #expect(try await passwd(["-b", "-I", "5000", path, "slow", "iterated"]).status == 0)
        #expect(try await passwd([path, "piped"], stdin: "from stdin\n").status == 0)
        #expect(try mode(path) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 5)
        #expect(text.contains("jake:$7$101$") && text.contains("old:$6$") && text.contains("slow:$7$5000$"))

        let broker = try await MosquittoBroker.start(allowAnonymous: false, passwordFile: path)
        defer { broker.stop() }
        for (user, password) in [("jake", "1234"), ("ann", "two words"), ("old", "legacy"), ("slow", "iterated"), ("piped", "from stdin")] {
            #expect(try await mosquittoAccepts(broker, user, password), "\(user)")
            #expect(try await !mosquittoAccepts(broker, user, password + "!"), "\(user)")
        }
        #expect(try await !mosquittoAccepts(broker, "nobody", "1234"))
    }

    @Test(.enabled(if: Peers.enabled("mosquitto", "mosquitto_pub", "mosquitto_passwd")))
    func filesPassBetweenItAndMosquittoPasswd() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        #expect(try await run(try Peers.require("mosquitto_passwd"), ["-b", "-c", path, "jake", "1234"]).status == 0)
        MosquittoBroker.handOverToMosquitto(path)
        let owner = try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? NSNumber
        #expect(try await passwd(["-b", path, "ann", "5678"]).status == 0)
        // Replacing the file keeps its owner, so that the broker can still read it.
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? NSNumber == owner)
        #expect(try await run(try Peers.require("mosquitto_passwd"), ["-b", path, "bob", "9999"]).status == 0)
        #expect(try await passwd(["-D", path, "jake"]).status == 0)

        let broker = try await MosquittoBroker.start(allowAnonymous: false, passwordFile: path)
        defer { broker.stop() }
        #expect(try await !mosquittoAccepts(broker, "jake", "1234"))
        #expect(try await mosquittoAccepts(broker, "ann", "5678"))
        #expect(try await mosquittoAccepts(broker, "bob", "9999"))
    }

    @Test(.enabled(if: Peers.enabled("mosquitto", "mosquitto_pub")))
    func upgradeHashesAPlainTextFile() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        try "# the house\njake:1234\nann:5678\n".write(toFile: path, atomically: true, encoding: .utf8)
        // Set here rather than left to the umask, which differs between machines.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let upgrade = try await passwd(["-U", path])
        #expect(upgrade.status == 0, "\(upgrade.stderr)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("# the house\njake:$7$101$") && !text.contains("1234"))
        // An edited file keeps its mode, as mosquitto_passwd -U leaves it.
        #expect(try mode(path) == 0o644)

        // Upgrading again leaves the hashes alone (mosquitto_passwd -U would hash them again).
        let again = try await passwd(["-U", path])
        #expect(again.status == 0 && again.stderr.contains("already hashed"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)

        let broker = try await MosquittoBroker.start(allowAnonymous: false, passwordFile: path)
        defer { broker.stop() }
        #expect(try await mosquittoAccepts(broker, "jake", "1234"))
        #expect(try await mosquittoAccepts(broker, "ann", "5678"))
    }

    @Test func asksTwiceWhenStandardInputIsNotATerminal() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        #expect(try await passwd(["-c", path, "jake"], stdin: "1234\n1234\n").status == 0)
        #expect(try PasswordFile.load(path: path).verify(username: "jake", password: Array("1234".utf8)) == .accepted)

        let mismatch = try await passwd([path, "jake"], stdin: "abcd\nabce\n")
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr == "error: the passwords do not match\n")
        let empty = try await passwd([path, "jake"], stdin: "\n")
        #expect(empty.status == 1 && empty.stderr == "error: the password is empty\n")
        let none = try await passwd([path, "jake"], stdin: "")
        #expect(none.status == 1 && none.stderr == "error: no password on standard input\n")
        #expect(try PasswordFile.load(path: path).verify(username: "jake", password: Array("1234".utf8)) == .accepted)
    }

    @Test(.enabled(if: Peers.enabled("python3")))
    func promptsOnTheTerminalWithoutEcho() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        // Python's pty gives the command a terminal; it answers each prompt and prints all the terminal showed.
        let script = """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen = b""
            def until(text):
                global seen
                while text not in seen:
                    seen += os.read(fd, 1024)
            until(b"Password: "); os.write(fd, b"s3cret\\n")
            until(b"Reenter password: "); os.write(fd, b"s3cret\\n")
            try:
                while True:
                    chunk = os.read(fd, 1024)
                    if not chunk: break
                    seen += chunk
            except OSError:
                pass
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(seen.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let result = try await run(
            try Peers.require("python3"), ["-c", script, HomeRulesBinary.path, "passwd", "-c", path, "jake"], timeout: 20)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Password: ") && result.stdout.contains("Reenter password: "))
        #expect(!result.stdout.contains("s3cret"), "the password was echoed: \(result.stdout)")
        #expect(try PasswordFile.load(path: path).verify(username: "jake", password: Array("s3cret".utf8)) == .accepted)
    }

    @Test func mistakesAreExplained() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        let missing = try await passwd(["-b", path, "jake", "1234"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "\(path): error: cannot open the file: No such file or directory\n")

        #expect(try await passwd(["-c", "-b", path, "jake", "1234"]).status == 0)
        let absent = try await passwd(["-D", path, "nobody"])
        #expect(absent.status == 1 && absent.stderr == "error: user nobody is not in \(path)\n")
        let colon = try await passwd(["-b", path, "a:b", "1234"])
        #expect(colon.status == 1 && colon.stderr == "error: the user name must not contain ':'\n")
        for arguments in [["-c", "-D", path, "jake"], ["-U", path, "jake"], ["-b", path, "jake"], [path, "jake", "1234"], ["-I", "0", "-b", path, "j", "p"]] {
            let usage = try await passwd(arguments)
            #expect(usage.status == 64, "\(arguments): \(usage.stderr)")
        }

        try "jake:1234\nbroken\n".write(toFile: path, atomically: true, encoding: .utf8)
        let corrupt = try await passwd(["-b", path, "ann", "5678"])
        #expect(corrupt.status == 1)
        #expect(corrupt.stderr.hasPrefix("\(path):1:6: error: user 'jake': the password is not hashed"))
        #expect(corrupt.stderr.contains("\(path):2:1: error: expected USER:HASH"))
    }

    /// Runs a command as `nobody` when the tests run as root (who may write
    /// any file), so that a read-only file is read-only to it.
    private func asAnotherUser(_ executable: String, _ arguments: [String]) async throws -> ProcessResult {
        guard getuid() == 0 else { return try await run(executable, arguments) }
        return try await run("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", executable] + arguments)
    }

    @Test(.enabled(if: Peers.enabled("mosquitto_passwd")))
    func aFileItMayNotWriteIsRefusedAsMosquittoPasswdRefusesIt() async throws {
        let directory = try TemporaryDirectory()
        // The folder is open to all: renaming a new file over the old one would succeed.
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.path)
        let path = directory.file("passwd").path
        #expect(try await passwd(["-c", "-b", path, "jake", "1234"]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        let before = try String(contentsOfFile: path, encoding: .utf8)

        let theirs = try await asAnotherUser(try Peers.require("mosquitto_passwd"), ["-b", path, "ann", "5678"])
        #expect(theirs.status != 0, "mosquitto_passwd wrote a read-only file")
        // A copy of the binary in the open folder: the build folder may be closed to other users (under /root).
        let binary = directory.file("homerules").path
        try FileManager.default.copyItem(atPath: HomeRulesBinary.path, toPath: binary)
        let ours = try await asAnotherUser(binary, ["passwd", "-b", path, "ann", "5678"])
        #expect(ours.status == 1)
        #expect(ours.stderr == "\(path): error: cannot write the file: Permission denied\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
        #expect(try mode(path) == 0o444)
    }

    @Test func anEditedFileKeepsItsOwnerAndMode() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        #expect(try await passwd(["-c", "-b", path, "jake", "1234"]).status == 0)
        #expect(try mode(path) == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let owner = try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? NSNumber
        #expect(try await passwd(["-b", path, "ann", "5678"]).status == 0)
        #expect(try await passwd(["-D", path, "jake"]).status == 0)
        #expect(try mode(path) == 0o640)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? NSNumber == owner)
        #expect(try PasswordFile.load(path: path).verify(username: "ann", password: Array("5678".utf8)) == .accepted)
    }

    @Test func dashPrintsTheFileInstead() async throws {
        let result = try await passwd(["-c", "-b", "-", "jake", "1234"])
        #expect(result.status == 0)
        let file = try PasswordFile(parsing: result.stdout, path: "-")
        #expect(file.verify(username: "jake", password: Array("1234".utf8)) == .accepted)
    }
}
