import Foundation
import HomeRules
import Rules

/// The lines `simulate` prints about its devices.
enum SimulatorOutput {
    static func show(_ activity: SimulatedDevice.Activity, of device: Device, verbose: Bool) {
        let time = EventLine.clockTime(Date())
        switch activity {
        case .online(let reconnected):
            let topic = device.presence?.topic.map { " on \($0)" } ?? ""
            printLine("\(time) \(device.id) is online\(reconnected ? " again" : "")\(topic)")
        case .connectionLost(let reason):
            printError("\(time) \(device.id) lost its connection: \(reason); reconnecting")
        case .published(let topic, let payload):
            if verbose { printLine("\(time) \(device.id) \(topic) \(payload)") }
        case .obeyed(let actuator, let command, let setting):
            printLine("\(time) \(device.id).\(actuator) is \(setting) (command '\(command)')")
        case .ignoredCommand(let actuator, let payload):
            printLine("\(time) \(device.id).\(actuator) ignored '\(payload.prefix(80))': not one of its payloads")
        case .offline:
            printLine("\(time) \(device.id) is offline")
        }
    }
}
