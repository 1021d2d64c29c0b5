/// Standard base64 (RFC 4648 §4, with padding), the encoding of the salts and
/// hashes in Mosquitto's password file. Strict: no whitespace, no missing
/// padding, no bits left over, so that a damaged file is noticed.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let padding = UInt8(ascii: "=")

    /// The value (0...63) of each byte of the alphabet; 0xFF for the others.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(group >> 18 & 63)])
            output.append(alphabet[Int(group >> 12 & 63)])
            output.append(second == nil ? padding : alphabet[Int(group >> 6 & 63)])
            output.append(third == nil ? padding : alphabet[Int(group & 63)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The decoded bytes, or nil when `text` is not canonical padded base64.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        let paddingCount = input.reversed().prefix(while: { $0 == padding }).count
        guard paddingCount <= 2 else { return nil }
        var output = [UInt8]()
        output.reserveCapacity(input.count / 4 * 3)
        var group: UInt32 = 0
        for (index, byte) in input.enumerated() {
            let isPadding = index >= input.count - paddingCount
            let value = isPadding ? 0 : values[Int(byte)]
            guard value != 0xFF else { return nil }
            group = group << 6 | UInt32(value)
            guard index % 4 == 3 else { continue }
            output.append(UInt8(group >> 16 & 0xFF))
            output.append(UInt8(group >> 8 & 0xFF))
            output.append(UInt8(group & 0xFF))
            group = 0
        }
        // The bits under the padding must be zero, or two texts would decode alike.
        guard paddingCount == 0 || output.suffix(paddingCount).allSatisfy({ $0 == 0 }) else { return nil }
        output.removeLast(paddingCount)
        return output
    }
}
