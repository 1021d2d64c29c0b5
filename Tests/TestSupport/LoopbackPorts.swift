import Foundation
import Synchronization

/// A TCP port on 127.0.0.1 for a peer that cannot bind port 0 and report it
/// (mosquitto), or for a test that stops a peer and starts one on the same port.
///
/// It is taken from below the kernel's ephemeral range, where no `bind` to
/// port 0 and no outgoing connection lands: a port from that range, free a
/// moment ago, may meanwhile belong to another test's broker, and a client
/// meant for the peer then talks to that broker instead. A port is handed out
/// once per test process.
public func freeLoopbackPort() throws -> Int {
    for _ in 0..<1000 {
        guard let port = LoopbackPorts.candidate() else { break }
        if canBind(port: port) { return port }
    }
    throw POSIXError(.EADDRINUSE)
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
public func isListening(port: Int) -> Bool {
    withLoopbackSocket(port: port) { fd, address, length in connect(fd, address, length) == 0 }
}

private func canBind(port: Int) -> Bool {
    withLoopbackSocket(port: port) { fd, address, length in bind(fd, address, length) == 0 }
}

private func withLoopbackSocket(port: Int, _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Bool) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

private enum LoopbackPorts {
    /// Ports already handed out in this process.
    static let handedOut = Mutex<Set<Int>>([])

    /// Below the ephemeral range, and above the ports that services use.
    static let range: Range<Int> = {
        let ephemeralStart = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
            .flatMap { $0.split(whereSeparator: \.isWhitespace).first }
            .flatMap { Int($0) } ?? 32768
        return 20000..<max(ephemeralStart, 20001)
    }()

    /// A random port of the range not handed out before, now counted as handed out.
    static func candidate() -> Int? {
        handedOut.withLock { taken in
            guard taken.count < range.count else { return nil }
            var port = Int.random(in: range)
            while taken.contains(port) { port = Int.random(in: range) }
            taken.insert(port)
            return port
        }
    }
}
