#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Tells systemd how the service is doing (`Type=notify`): `READY=1` once
/// the broker listens and the home is loaded, `STOPPING=1` on shutdown, and
/// a `STATUS=` line for `systemctl status`. Outside systemd (no
/// `NOTIFY_SOCKET`), it does nothing.
public enum SystemdNotification {
    /// Sends `state` (lines such as `READY=1`) to `NOTIFY_SOCKET`; failures
    /// are ignored, as sd_notify's are: the service runs either way.
    public static func send(_ state: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        // "@name" is Linux's abstract namespace: a leading NUL byte.
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { return }
        defer { close(socket) }
        let message = Array(state.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socket, message, message.count, 0, $0, length) }
        }
    }
}
