import Foundation

/// Turning payloads into sensor values and actuator states.
enum SensorReading {
    /// Why a payload gave no value.
    struct Failure: Error, Sendable, Hashable {
        var reason: String
    }

    /// The value `payload` carries for `sensor`.
    static func value(of payload: [UInt8], for sensor: Sensor) -> Result<SensorValue, Failure> {
        let raw: String
        if let path = sensor.path {
            guard let document = JSONValue(payload: payload) else { return .failure(Failure(reason: "the payload is not JSON")) }
            guard let found = path.value(in: document) else {
                return .failure(Failure(reason: "the JSON payload has nothing at '\(path)'"))
            }
            switch (sensor.type, found) {
            case (.number, .number(let number)): return .success(.number(number))
            case (.boolean, .bool(let flag)): return .success(.boolean(flag))
            default:
                guard let text = found.text else { return .failure(Failure(reason: "'\(path)' holds no \(sensor.type.rawValue)")) }
                raw = text
            }
        } else {
            raw = String(decoding: payload, as: UTF8.self)
        }
        return value(of: raw, for: sensor)
    }

    private static func value(of raw: String, for sensor: Sensor) -> Result<SensorValue, Failure> {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        switch sensor.type {
        case .number:
            guard let number = Double(text), number.isFinite else {
                return .failure(Failure(reason: "'\(text.prefix(40))' is not a number"))
            }
            return .success(.number(number))
        case .boolean:
            guard let flag = boolean(text, payloads: sensor.booleanPayloads) else {
                return .failure(Failure(reason: "'\(text.prefix(40))' is not true or false"))
            }
            return .success(.boolean(flag))
        case .string:
            return .success(.string(text))
        }
    }

    /// Reads true/false, on/off, yes/no, 1/0 (any case), or the sensor's own payloads.
    static func boolean(_ text: String, payloads: BinaryPayloads?) -> Bool? {
        let lowered = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if let payloads {
            if lowered == payloads.on.lowercased() { return true }
            if lowered == payloads.off.lowercased() { return false }
        }
        switch lowered {
        case "true", "on", "yes", "1": return true
        case "false", "off", "no", "0": return false
        default: return nil
        }
    }

    /// The state an actuator's state payload reports, or nil when it is neither.
    static func actuatorState(of payload: [UInt8], for actuator: Actuator) -> ActuatorState? {
        var text = String(decoding: payload, as: UTF8.self)
        if let path = actuator.statePath {
            guard let document = JSONValue(payload: payload), let found = path.value(in: document)?.text else { return nil }
            text = found
        }
        let lowered = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if lowered == actuator.reportedText(for: .on).lowercased() { return .on }
        if lowered == actuator.reportedText(for: .off).lowercased() { return .off }
        return nil
    }
}
