/// The parts of a broker URL: `mqtt://[user[:password]@]host[:port][/]`,
/// or `mqtts://` for TLS.
///
/// Parsed by hand rather than with Foundation's URL so that the client stays
/// on NIO alone and every mistake gets an error naming it.
struct BrokerURL: Hashable {
    var host: String
    var port: Int
    var username: String?
    var password: String?
    var usesTLS: Bool

    static let plainSchemes = ["mqtt", "tcp"]
    /// `ssl://` is paho's name for it.
    static let tlsSchemes = ["mqtts", "ssl"]

    init(parsing url: String) throws(MQTTClientError) {
        func invalid(_ reason: String) -> MQTTClientError { .invalidURL(url, reason: reason) }

        guard let schemeEnd = url.firstRange(of: "://") else { throw invalid("expected mqtt://host[:port]") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard Self.plainSchemes.contains(scheme) || Self.tlsSchemes.contains(scheme) else {
            throw invalid("unknown scheme \"\(scheme)\"; expected mqtt:// or mqtts://")
        }
        usesTLS = Self.tlsSchemes.contains(scheme)
        var rest = url[schemeEnd.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("#") else {
            throw invalid("a broker URL has no path, query or fragment")
        }

        var authority = rest
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            authority = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = try Self.percentDecoded(userInfo[..<colon], in: url)
                password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], in: url)
            } else {
                username = try Self.percentDecoded(userInfo, in: url)
            }
            if username?.isEmpty == true { throw invalid("the user name is empty") }
        }

        let portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unclosed [ in the host") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let afterHost = authority[authority.index(after: close)...]
            if afterHost.isEmpty {
                portText = nil
            } else if afterHost.hasPrefix(":") {
                portText = afterHost.dropFirst()
            } else {
                throw invalid("unexpected text after the IPv6 host")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
            portText = nil
        }
        guard !host.isEmpty else { throw invalid("the host is empty") }

        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw invalid("port \"\(portText)\" is not a number between 1 and 65535")
            }
            port = value
        } else {
            port = usesTLS ? MQTTClientConfiguration.defaultTLSPort : MQTTClientConfiguration.defaultPort
        }
    }

    /// Decodes `%XX` escapes; the result must be valid UTF-8.
    private static func percentDecoded(_ text: Substring, in url: String) throws(MQTTClientError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw .invalidURL(url, reason: "a % escape needs two hexadecimal digits")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .invalidURL(url, reason: "percent escapes do not form valid UTF-8")
        }
        return decoded
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
