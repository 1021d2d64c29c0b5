import Rules

/// Which device (and which of its sensors or actuators) a topic belongs to,
/// so that the log can say whose message it was.
struct TopicDirectory {
    struct Owner: Hashable {
        var device: String
        /// Nil for the presence topic, or when several entities share the
        /// topic (a Zigbee2MQTT JSON message carries all sensors at once).
        var entity: String?
    }

    private var owners: [String: Owner] = [:]

    init(home: Home) {
        for device in home.devices {
            if let topic = device.presence?.topic { claim(topic, device: device.id, entity: nil) }
            for sensor in device.sensors { claim(sensor.topic, device: device.id, entity: sensor.name) }
            for actuator in device.actuators {
                if let topic = actuator.stateTopic { claim(topic, device: device.id, entity: actuator.name) }
            }
        }
    }

    func owner(of topic: String) -> Owner? { owners[topic] }

    private mutating func claim(_ topic: String, device: String, entity: String?) {
        if let existing = owners[topic] {
            owners[topic] = Owner(device: existing.device, entity: existing.entity == entity ? entity : nil)
        } else {
            owners[topic] = Owner(device: device, entity: entity)
        }
    }
}
