import Foundation

extension Event {
    /// The MQTT topic the daemon publishes this event on, for `homerules
    /// watch` and any other client: `homerules/events/<kind>`.
    public var mqttTopic: String { Event.topicPrefix + kind.rawValue }

    /// `homerules/events/`: subscribe to `homerules/events/#` for all kinds.
    public static let topicPrefix = "homerules/events/"

    /// The JSON form, as published over MQTT and printed by `--json`: every
    /// field under its own name in sorted order, absent fields left out,
    /// `time` in ISO 8601 with milliseconds. Written by hand: it runs for
    /// every event the daemon logs, and JSONEncoder costs more than the rest.
    public func json() -> Data {
        var json = "{"
        func field(_ name: String, _ value: String?) {
            guard let value else { return }
            if json.utf8.count > 1 { json += "," }
            json += "\"\(name)\":"
            JSONString.append(value, to: &json)
        }
        func field(_ name: String, _ value: Int64?) {
            guard let value else { return }
            if json.utf8.count > 1 { json += "," }
            json += "\"\(name)\":\(value)"
        }
        field("cause", cause)
        field("detail", detail)
        field("device", device)
        field("entity", entity)
        field("id", id)
        field("kind", kind.rawValue)
        field("payload", payload)
        field("rule", rule)
        field("time", EventTime.isoText(time))
        field("topic", topic)
        json += "}"
        return Data(json.utf8)
    }

    /// Reads the JSON form back.
    public static func fromJSON(_ data: Data) throws -> Event {
        try decoder.decode(Event.self, from: data)
    }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try timeFormat.parse(text)
        }
        return decoder
    }()
}

/// JSON string literals (RFC 8259 §7), for the JSON that HomeRules writes by hand.
public enum JSONString {
    /// `text` as a quoted JSON string.
    public static func quoted(_ text: String) -> String {
        var json = ""
        append(text, to: &json)
        return json
    }

    /// Appends `text` as a quoted JSON string.
    public static func append(_ text: String, to json: inout String) {
        json += "\""
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            json += text
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": json += "\\\""
                case "\\": json += "\\\\"
                case "\n": json += "\\n"
                case "\r": json += "\\r"
                case "\t": json += "\\t"
                case _ where scalar.value < 0x20:
                    json += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                default: json.unicodeScalars.append(scalar)
                }
            }
        }
        json += "\""
    }
}
