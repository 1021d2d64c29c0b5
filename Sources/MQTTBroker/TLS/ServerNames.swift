#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The names and addresses a server certificate is valid for: those that
/// clients put after `-h` (`mosquitto_sub -h ...`, a sketch's
/// `client.begin("...")`), which they check against the certificate.
public struct ServerNames: Sendable, Hashable {
    /// Host names, such as `localhost` and `raspberrypi.local`.
    public private(set) var hostNames: [String]
    /// IPv4 and IPv6 addresses, in their usual text form.
    public private(set) var ipAddresses: [String]

    /// `localhost`, `127.0.0.1` and `::1`: every certificate has them, so
    /// that clients on the broker's own machine always verify.
    public static let loopback = ServerNames(checkedHostNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"])

    private init(checkedHostNames: [String], ipAddresses: [String]) {
        self.hostNames = checkedHostNames
        self.ipAddresses = ipAddresses
    }

    /// The loopback names and the given ones.
    /// - Throws: ``HomeCertificateError/invalidHostName(_:)`` or
    ///   ``HomeCertificateError/invalidIPAddress(_:)``.
    public init(hostNames: [String], ipAddresses: [String]) throws(HomeCertificateError) {
        self = .loopback
        for name in hostNames {
            guard Self.isValidHostName(name) else { throw .invalidHostName(name) }
            add(hostName: name)
        }
        for address in ipAddresses {
            guard let normalized = IPAddress(address)?.description else { throw .invalidIPAddress(address) }
            add(ipAddress: normalized)
        }
    }

    /// This machine: the loopback names, its host name (with `.local` for
    /// mDNS when it has no domain, or its first label when it has one), and
    /// the addresses of its network interfaces that are up, except IPv6
    /// link-local ones, which need a zone that certificates cannot carry.
    public static func thisMachine() -> ServerNames {
        var names = ServerNames.loopback
        if let host = hostName(), isValidHostName(host) {
            names.add(hostName: host)
            if let dot = host.firstIndex(of: ".") {
                names.add(hostName: String(host[..<dot]))
            } else {
                names.add(hostName: host + ".local")
            }
        }
        for address in interfaceAddresses() { names.add(ipAddress: address) }
        return names
    }

    /// The name to put in the subject and to suggest to clients: the first
    /// that is not `localhost`.
    public var primaryHostName: String {
        hostNames.first { $0 != "localhost" } ?? "localhost"
    }

    private mutating func add(hostName: String) {
        if !hostNames.contains(where: { $0.lowercased() == hostName.lowercased() }) { hostNames.append(hostName) }
    }

    private mutating func add(ipAddress: String) {
        if !ipAddresses.contains(ipAddress) { ipAddresses.append(ipAddress) }
    }

    /// RFC 1123 host names: dot-separated labels of letters, digits and
    /// inner hyphens, 63 bytes a label and 253 in all.
    static func isValidHostName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count)
                && label.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") }
                && label.first != "-" && label.last != "-"
        }
    }

    private static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }

    private static func interfaceAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        for interface in sequence(first: first, next: { $0.pointee.ifa_next }) {
            let flags = Int32(interface.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0,
                let address = interface.pointee.ifa_addr, let ip = IPAddress(address),
                !ip.isIPv6LinkLocal
            else { continue }
            addresses.append(ip.description)
        }
        return addresses
    }
}

/// An IPv4 or IPv6 address as bytes (what certificates hold) and text.
struct IPAddress: Hashable, CustomStringConvertible {
    let bytes: [UInt8]

    init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    init?(_ address: UnsafePointer<sockaddr>) {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            var v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        case AF_INET6:
            var v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        default:
            return nil
        }
    }

    var isIPv6LinkLocal: Bool { bytes.count == 16 && bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 }

    var description: String {
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let converted = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        guard converted != nil else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
