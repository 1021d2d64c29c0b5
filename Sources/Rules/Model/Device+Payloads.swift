// Payloads seen from outside the engine: the CLI reading an actuator's state
// topic, and the simulator speaking for a device.

extension Actuator {
    /// The state a payload on ``stateTopic`` reports, read exactly as the
    /// engine reads it (at ``statePath`` in JSON, ignoring case and
    /// surrounding spaces), or nil when it is neither on nor off.
    public func state(reportedBy payload: [UInt8]) -> ActuatorState? {
        SensorReading.actuatorState(of: payload, for: self)
    }

    /// The text a device reports for `state` on its state topic: the on or
    /// off payload, or, with a ``statePath``, the payload's value at that
    /// path when it is JSON (`ON` for `{"state":"ON"}` at `state`).
    public func reportedText(for state: ActuatorState) -> String {
        let payload = state == .on ? payloads.on : payloads.off
        guard let statePath, let document = JSONValue(payload: Array(payload.utf8)), let text = statePath.value(in: document)?.text
        else { return payload }
        return text
    }

    /// The state a user names on the command line: `on` or `off` in any
    /// case (Tasmota users type `ON`), or one of this actuator's own on and
    /// off payloads, such as `1` or `{"state":"ON"}`.
    public func state(named text: String) -> ActuatorState? {
        if let state = ActuatorState(rawValue: text.lowercased()) { return state }
        let typed = text.lowercased()
        return [(payloads.on, ActuatorState.on), (payloads.off, .off)].first { $0.0.lowercased() == typed }?.1
    }
}

extension Device {
    /// The values a message on `topic` carries for this device's sensors,
    /// read as the engine reads them (a JSON payload at each sensor's path),
    /// in the order the sensors are defined; a sensor whose value cannot be
    /// read from it is left out.
    public func sensorValues(in payload: [UInt8], on topic: String) -> [(sensor: Sensor, value: SensorValue)] {
        sensors.filter { $0.topic == topic }.compactMap { sensor in
            guard case .success(let value) = SensorReading.value(of: payload, for: sensor) else { return nil }
            return (sensor, value)
        }
    }
}

extension PresenceConvention {
    /// The text the firmware itself publishes to announce `state`, spelt as
    /// it spells it: Tasmota's `Online`, Shelly's `false`, Homie's `lost`;
    /// nil for a state the convention does not have. For Zigbee2MQTT this is
    /// the text at ``path`` of its JSON payload.
    public func announcement(of state: PresenceState) -> String? {
        switch (self, state) {
        case (.tasmota, .online): "Online"
        case (.tasmota, .offline): "Offline"
        case (.esphome, .online), (.zigbee2mqtt, .online): "online"
        case (.esphome, .offline), (.zigbee2mqtt, .offline): "offline"
        case (.shelly, .online): "true"
        case (.shelly, .offline): "false"
        case (.homie, .online): "ready"
        // A Homie device's will is `lost`; `disconnected` is for a clean exit.
        case (.homie, .offline): "lost"
        case (.homie, .sleeping), (.homie, .initializing), (.homie, .alert): state.rawValue
        default: nil
        }
    }
}

extension Presence {
    /// The text a device publishes on ``topic`` to announce `state`, or nil
    /// when no payload of this presence means it.
    ///
    /// The convention's own spelling when this presence still reads it as
    /// `state`; otherwise the alphabetically first payload that means
    /// `state`. Payloads are kept lowercased, so a custom `Online` comes back
    /// as `online`, which reads the same. With a ``path`` the text belongs at
    /// that path of a JSON object.
    public func announcement(of state: PresenceState) -> String? {
        if let text = convention?.announcement(of: state), self.state(announcedBy: Array(text.utf8)) == state {
            return text
        }
        return payloads.filter { $0.value == state }.keys.min()
    }
}
