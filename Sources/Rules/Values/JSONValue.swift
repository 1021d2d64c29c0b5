import Foundation

/// A parsed JSON document, as devices such as Zigbee2MQTT publish them.
public enum JSONValue: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses a payload, or nil when it is not JSON.
    public init?(payload: [UInt8]) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(payload)) else { return nil }
        self = value
    }

    /// The value as text: strings as they are, numbers without a trailing `.0`.
    public var text: String? {
        switch self {
        case .string(let value): value
        case .number(let value): Formatting.number(value)
        case .bool(let value): value ? "true" : "false"
        case .null, .array, .object: nil
        }
    }
}

/// A path to a value inside a JSON payload: `temperature`, `a.b[0]`, `[2].x`.
public struct JSONPath: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One step of a path: a member of an object or an element of an array.
    public enum Segment: Sendable, Hashable, Codable {
        case key(String)
        case index(Int)
    }

    public let description: String
    /// The steps from the document's root to the value, for code that builds
    /// payloads rather than reads them (the simulator).
    public let segments: [Segment]

    /// Reads a path, or returns nil when it is malformed.
    public init?(_ text: String) {
        var segments: [Segment] = []
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var expectKey = true
        while !rest.isEmpty {
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let index = Int(rest[rest.index(after: rest.startIndex)..<close]),
                      index >= 0
                else { return nil }
                segments.append(.index(index))
                rest = rest[rest.index(after: close)...]
                expectKey = false
            } else if rest.first == "." {
                guard !segments.isEmpty else { return nil }
                rest = rest.dropFirst()
                expectKey = true
                guard !rest.isEmpty, rest.first != ".", rest.first != "[" else { return nil }
            } else {
                guard expectKey else { return nil }
                let key = rest.prefix { $0 != "." && $0 != "[" && $0 != "]" }
                guard !key.isEmpty else { return nil }
                segments.append(.key(String(key)))
                rest = rest.dropFirst(key.count)
                expectKey = false
            }
        }
        self.description = text
        self.segments = segments
    }

    static let help = "write a path such as temperature, state.brightness or values[0]"

    /// The value at this path, or nil when the document has none there.
    func value(in document: JSONValue) -> JSONValue? {
        var current = document
        for segment in segments {
            switch (segment, current) {
            case (.key(let key), .object(let members)):
                guard let next = members[key] else { return nil }
                current = next
            case (.index(let index), .array(let elements)):
                guard index < elements.count else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}
