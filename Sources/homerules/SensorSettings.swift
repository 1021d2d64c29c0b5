import ArgumentParser
import Foundation

/// `SENSOR=NUMBER` of `simulate --mean` and `--spread`.
struct SensorSetting: ExpressibleByArgument, Sendable {
    /// `device.sensor`, or a sensor name for every device.
    let sensor: String
    let value: Double

    init?(argument: String) {
        guard let equals = argument.lastIndex(of: "=") else { return nil }
        let sensor = argument[..<equals].trimmingCharacters(in: .whitespaces)
        guard !sensor.isEmpty, let value = Double(argument[argument.index(after: equals)...].trimmingCharacters(in: .whitespaces)),
              value.isFinite
        else { return nil }
        self.sensor = sensor
        self.value = value
    }
}

/// `SENSOR=FROM..TO` of `simulate --ramp`.
struct SensorRampSetting: ExpressibleByArgument, Sendable {
    /// `device.sensor`, or a sensor name for every device.
    let sensor: String
    let from: Double
    let to: Double

    init?(argument: String) {
        guard let equals = argument.lastIndex(of: "=") else { return nil }
        let sensor = argument[..<equals].trimmingCharacters(in: .whitespaces)
        let bounds = argument[argument.index(after: equals)...].components(separatedBy: "..")
        guard !sensor.isEmpty, bounds.count == 2,
              let from = Double(bounds[0].trimmingCharacters(in: .whitespaces)),
              let to = Double(bounds[1].trimmingCharacters(in: .whitespaces)), from.isFinite, to.isFinite
        else { return nil }
        self.sensor = sensor
        self.from = from
        self.to = to
    }
}
