import ArgumentParser
import Rules

/// `DEVICE.ACTUATOR` on the command line, found in the device definitions.
struct ActuatorTarget: Sendable {
    let device: Device
    let actuator: Actuator

    /// `livingroom-node.led`.
    var name: String { QualifiedName(device: device.id, member: actuator.name).description }

    /// The actuator `text` names, or a message saying what is wrong with it,
    /// with a "did you mean" when a name is close.
    static func resolve(_ text: String, in home: Home, devicesDirectory: String) -> Result<ActuatorTarget, Failure> {
        guard let name = QualifiedName(parsing: text) else {
            var message = "expected DEVICE.ACTUATOR, such as livingroom-node.led; found '\(text)'"
            if let device = home.device(id: text), let only = device.actuators.first, device.actuators.count == 1 {
                message += "; did you mean '\(device.id).\(only.name)'?"
            }
            return .failure(Failure(message: message))
        }
        guard let device = home.device(id: name.device) else {
            let hint = home.devices.isEmpty
                ? " (no devices are defined in '\(devicesDirectory)'; use --devices DIR)"
                : Suggestion.didYouMean(name.device, among: home.devices.map(\.id))
            return .failure(Failure(message: "unknown device '\(name.device)'\(hint)"))
        }
        guard let actuator = device.actuator(named: name.member) else {
            var message = "device '\(device.id)' has no actuator '\(name.member)'"
            if device.sensor(named: name.member) != nil {
                message += "; '\(name.member)' is a sensor"
            } else if device.actuators.isEmpty {
                message += "; it has no actuators"
            } else if let close = Suggestion.closest(to: name.member, among: device.actuators.map(\.name)) {
                message += "; did you mean '\(device.id).\(close)'?"
            } else {
                message += "; its actuators: " + device.actuators.map(\.name).joined(separator: ", ")
            }
            return .failure(Failure(message: message))
        }
        return .success(ActuatorTarget(device: device, actuator: actuator))
    }

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
