import ArgumentParser
import Foundation

/// `SENSOR=NUMBER` of `simulate --mean` and `--spread`.
struct SensorSetting: ExpressibleByArgument, Sendable {
    /// `device.sensor`, or a sensor name for every device.
    let sensor: String
    let value: Double

    init?(argument: String) {
        guard let (sensor, text) = SensorSetting.split(argument), let value = Double(text), value.isFinite else { return nil }
        self.sensor = sensor
        self.value = value
    }

    /// `SENSOR=TEXT` as its two trimmed halves, split at the last `=`.
    static func split(_ argument: String) -> (sensor: String, text: String)? {
        guard let equals = argument.lastIndex(of: "=") else { return nil }
        let sensor = argument[..<equals].trimmingCharacters(in: .whitespaces)
        guard !sensor.isEmpty else { return nil }
        return (sensor, argument[argument.index(after: equals)...].trimmingCharacters(in: .whitespaces))
    }
}

/// `SENSOR=FROM..TO` of `simulate --ramp`.
struct SensorRampSetting: ExpressibleByArgument, Sendable {
    /// `device.sensor`, or a sensor name for every device.
    let sensor: String
    let from: Double
    let to: Double

    init?(argument: String) {
        guard let (sensor, text) = SensorSetting.split(argument) else { return nil }
        let bounds = text.components(separatedBy: "..").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard bounds.count == 2, let from = bounds[0], let to = bounds[1], from.isFinite, to.isFinite else { return nil }
        self.sensor = sensor
        self.from = from
        self.to = to
    }
}
