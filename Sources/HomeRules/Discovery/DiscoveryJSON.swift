import Foundation
import Rules

/// What reading untrusted discovery announcements needs of a JSON value:
/// bounds checked before anything is decoded, and typed member access.
extension JSONValue {
    /// Why a payload was not read.
    enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case tooLarge(bytes: Int, limit: Int)
        case tooDeep(limit: Int)
        case notJSON

        var description: String {
            switch self {
            case .tooLarge(let bytes, let limit): "the payload is \(bytes) bytes; discover reads at most \(limit)"
            case .tooDeep(let limit): "the JSON is nested deeper than \(limit) levels; discover reads at most \(limit)"
            case .notJSON: "the payload is not JSON"
            }
        }
    }

    /// Parses `payload` when it is within `maximumBytes` and nested no
    /// deeper than the YAML files may be: the decoder recurses once per
    /// level, so depth is checked on the bytes first.
    static func parse(
        _ payload: [UInt8], maximumBytes: Int, maximumDepth: Int = YAMLBounds.maximumDepth
    ) -> Result<JSONValue, Refusal> {
        guard payload.count <= maximumBytes else { return .failure(.tooLarge(bytes: payload.count, limit: maximumBytes)) }
        guard depth(of: payload) <= maximumDepth else { return .failure(.tooDeep(limit: maximumDepth)) }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(payload)) else { return .failure(.notJSON) }
        return .success(value)
    }

    /// The deepest nesting of arrays and objects, counting brackets outside strings.
    static func depth(of payload: [UInt8]) -> Int {
        var (depth, deepest) = (0, 0)
        var (inString, escaped) = (false, false)
        for byte in payload {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    // MARK: Reading

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var members: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    var elements: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// A scalar as JSON text, for command payloads: `"ON"`, `1`, `true`.
    var jsonText: String? {
        switch self {
        case .string(let value):
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            guard let data = try? encoder.encode(value) else { return nil }
            return String(decoding: data, as: UTF8.self)
        case .number, .bool: return text
        case .null, .array, .object: return nil
        }
    }
}
