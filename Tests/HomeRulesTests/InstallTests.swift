import Foundation
import HomeRules
import TestSupport
import Testing

/// `dist/install`, the systemd unit and the readiness it waits for: what a
/// user installing HomeRules on a Debian machine or a Raspberry Pi runs.
@Suite("Installing: dist/install, the systemd unit, completions", .timeLimit(.minutes(5)))
struct InstallTests {
    @Test func theInstallScriptStagesEverythingAndItAllChecksOut() async throws {
        let stage = try TemporaryDirectory()
        let root = ExampleHomeFiles.repositoryRoot.path
        let install = try await run(
            "/bin/sh", ["-c", "cd \"$0\" && BIN=\"$1\" NO_MAN=1 DESTDIR=\"$2\" dist/install", root, HomeRulesBinary.path, stage.path])
        #expect(install.status == 0, "\(install)")
        let bin = stage.file("usr/local/bin/homerules").path
        #expect(FileManager.default.isExecutableFile(atPath: bin))

        // The unit, pointed at the staged binary, passes systemd's own check without a word.
        let unit = try String(contentsOf: stage.file("etc/systemd/system/homerules.service"), encoding: .utf8)
        #expect(unit.contains("Type=notify") && unit.contains("User=homerules") && unit.contains("Restart=on-failure"))
        if Peers.enabled("systemd-analyze") {
            let checked = stage.file("homerules.service")
            try unit.replacingOccurrences(of: "/usr/local/bin/homerules", with: bin).write(to: checked, atomically: true, encoding: .utf8)
            let verify = try await run(try Peers.require("systemd-analyze"), ["verify", "--man=no", checked.path])
            #expect(verify.status == 0 && verify.stderr.isEmpty && verify.stdout.isEmpty, "\(verify)")
        }

        // The settings it installs read cleanly, and their directories exist.
        let settings = try ServeSettings.load(path: stage.file("etc/homerules/homerules.yaml").path).get()
        #expect(settings.devices == stage.file("etc/homerules/devices").path)
        #expect(settings.rules == stage.file("etc/homerules/rules").path)
        #expect(settings.database == "/var/lib/homerules/homerules.sqlite")

        // Completions for the three shells, each accepted by its shell.
        let completions = [
            ("bash", "usr/local/share/bash-completion/completions/homerules"),
            ("zsh", "usr/local/share/zsh/site-functions/_homerules"),
            ("fish", "usr/local/share/fish/vendor_completions.d/homerules.fish"),
        ]
        for (shell, path) in completions where Peers.enabled(shell) {
            let script = stage.file(path).path
            #expect(try String(contentsOfFile: script, encoding: .utf8).contains("serve"))
            let parsed = try await run(try Peers.require(shell), ["-n", script])
            #expect(parsed.status == 0, "\(shell): \(parsed)")
        }
    }

    @Test func serveTellsSystemdWhenItIsReadyAndWhenItStops() async throws {
        let directory = try TemporaryDirectory()
        let socketPath = directory.file("notify").path
        let socket = try NotifySocket(path: socketPath)
        defer { socket.close() }
        let serve = try BackgroundProcess(
            "/bin/sh", ["-c", "cd \"$0\" && NOTIFY_SOCKET=\"$1\" exec \"$2\" serve --listen 127.0.0.1:0", directory.path, socketPath,
                        HomeRulesBinary.path])
        defer { serve.stop() }
        let ready = try await socket.receive(within: .seconds(60))
        #expect(ready == "READY=1\nSTATUS=serving 0 devices, 0 sensors, 0 actuators, 0 rules", "\(serve.output)")
        // Ready means ready: the broker already takes connections.
        let port = try #require(ServeOutput.port(in: serve.output))
        #expect(isListening(port: port))
        serve.process.send(SIGTERM)
        #expect(try await socket.receive(within: .seconds(30)) == "STOPPING=1")
        #expect(await serve.waitForExit(timeout: 30) == 0)
    }
}

/// A datagram socket standing in for systemd's notification socket.
private final class NotifySocket: @unchecked Sendable {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)) == 0
            }
        }
        guard descriptor >= 0, bound else { throw POSIXError(.EADDRINUSE) }
    }

    /// The next datagram, polled without blocking a thread.
    func receive(within timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 { return String(decoding: buffer[..<count], as: UTF8.self) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw POSIXError(.ETIMEDOUT)
    }

    func close() { _ = Glibc.close(descriptor) }
}
