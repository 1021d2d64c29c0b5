import Foundation

extension Event {
    /// The MQTT topic the daemon publishes this event on, for `homerules
    /// watch` and any other client: `homerules/events/<kind>`.
    public var mqttTopic: String { Event.topicPrefix + kind.rawValue }

    /// `homerules/events/`: subscribe to `homerules/events/#` for all kinds.
    public static let topicPrefix = "homerules/events/"

    /// The JSON form, as published over MQTT and printed by `--json`: every
    /// field under its own name, absent fields left out, `time` in ISO 8601
    /// with milliseconds.
    public func json() -> Data {
        // Encoding plain strings and numbers cannot fail.
        (try? Event.encoder.encode(self)) ?? Data()
    }

    /// Reads the JSON form back.
    public static func fromJSON(_ data: Data) throws -> Event {
        try decoder.decode(Event.self, from: data)
    }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            // The formatter truncates; a time read back from SQLite as
            // .830999… must print as .831, so round to the millisecond first.
            let rounded = Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000 + 0.000_000_1)
            try container.encode(rounded.formatted(timeFormat))
        }
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try timeFormat.parse(text)
        }
        return decoder
    }()
}
