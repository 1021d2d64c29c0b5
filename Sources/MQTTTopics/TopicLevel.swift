/// One level of a topic name or filter, as a dictionary key: compared and
/// hashed by its bytes, as MQTT compares topics. (Swift's `String` equality
/// would take two spellings of "é" for one topic; MQTT takes them for two.)
@usableFromInline
struct TopicLevel: Hashable, Sendable {
    let text: Substring

    @usableFromInline
    init(_ text: Substring) {
        self.text = text
    }

    /// A key that keeps only its own bytes, not the whole topic it came from.
    init(owning text: Substring) {
        self.text = Substring(String(text))
    }

    static let single = TopicLevel("+")
    static let multi = TopicLevel("#")

    enum Wildcard {
        case single, multi
    }

    /// Which wildcard the level is, if it is one.
    var wildcard: Wildcard? {
        let bytes = text.utf8
        guard bytes.count == 1 else { return nil }
        switch bytes.first {
        case Topic.plus: return .single
        case Topic.hash: return .multi
        default: return nil
        }
    }

    /// Whether the level starts with `$`: at the root, a wildcard skips it (§4.7.2).
    var isSystem: Bool { text.utf8.first == Topic.dollar }

    @usableFromInline
    static func == (lhs: TopicLevel, rhs: TopicLevel) -> Bool {
        let left = lhs.text.utf8, right = rhs.text.utf8
        guard left.count == right.count else { return false }
        // Compared as contiguous bytes where both are (native strings are): the
        // generic comparison of two UTF-8 views took a tenth of the broker's walk.
        let equal = left.withContiguousStorageIfAvailable { leftBytes in
            right.withContiguousStorageIfAvailable { rightBytes in leftBytes.elementsEqual(rightBytes) }
        }
        return equal.flatMap { $0 } ?? left.elementsEqual(right)
    }

    @usableFromInline
    func hash(into hasher: inout Hasher) {
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            // Same bytes, same hash, whichever way they are stored.
            Array(text.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}
