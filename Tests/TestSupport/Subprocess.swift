import Foundation
import Synchronization

/// A child process started with `posix_spawn`.
///
/// Not Foundation's `Process`: on Linux, with many tests starting peers at
/// once, its `run()` crashed in memcpy and its pipe reads died on EINTR.
/// Here the child starts with no signals blocked (the threads that run Swift
/// tasks block them, and a child inherits the mask), and reads retry.
public final class Subprocess: Sendable {
    public let pid: pid_t
    /// The raw wait status once the child is reaped.
    private let waitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with its standard streams on the given descriptors.
    public init(_ executable: String, _ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        // Nothing else: an inherited socket would keep the test's connections open in the child.
        _ = addCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv + [nil], environ)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        pid = child
    }

    /// Whether the child still runs; reaps it once it has ended.
    public var isRunning: Bool {
        waitStatus.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            status = raw
            return false
        }
    }

    /// Blocks until the child ends.
    public func waitUntilExit() {
        waitStatus.withLock { status in
            guard status == nil else { return }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            status = raw
        }
    }

    /// The exit code, or the number of the signal that ended the child.
    public var terminationStatus: Int32 {
        let raw = waitStatus.withLock { $0 } ?? 0
        return Self.killedBy(raw) ?? ((raw >> 8) & 0xFF)
    }

    /// Whether a signal (rather than `exit`) ended the child.
    public var wasKilledBySignal: Bool {
        Self.killedBy(waitStatus.withLock { $0 } ?? 0) != nil
    }

    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    private static func killedBy(_ raw: Int32) -> Int32? {
        let signal = raw & 0x7F
        return signal != 0 && signal != 0x7F ? signal : nil
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later),
/// which Swift's Glibc module does not declare.
private let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
        fatalError("glibc 2.34 or later is needed to spawn test peers")
    }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// Reads a descriptor until end of file, retrying interrupted reads.
func readAll(_ descriptor: Int32) -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = read(descriptor, &buffer, buffer.count)
        if count > 0 {
            data.append(buffer, count: count)
        } else if count == 0 || errno != EINTR {
            return data
        }
    }
}
