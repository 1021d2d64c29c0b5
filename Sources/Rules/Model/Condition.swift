/// A test that must pass for a triggered rule to run its actions (`if`).
public indirect enum Condition: Sendable, Hashable, Codable {
    case all([Condition])
    case any([Condition])
    /// True when none of the conditions holds.
    case not([Condition])
    case sensor(QualifiedName, SensorTest)
    case actuator(QualifiedName, is: ActuatorState)
    case presence(device: String, is: PresenceState)
    case time(TimeWindow)
}

/// A test on a sensor's current value.
public enum SensorTest: Sendable, Hashable, Codable {
    /// Strictly above and/or below.
    case range(above: Double?, below: Double?)
    case equals(SensorValue)
}
