/// Whether and when an ``MQTTClient`` reconnects after its connection drops.
///
/// Delays grow exponentially from ``initialDelay`` by ``multiplier`` up to
/// ``maximumDelay``; each delay is then shortened by a random part of up to
/// ``jitter`` of itself, so that many devices that lost the same broker do not
/// come back in lockstep. Only a connection that had been established is
/// re-established: a failing first `connect()` throws instead.
public struct ReconnectPolicy: Sendable, Hashable {
    public var isEnabled: Bool
    /// The delay before the first attempt.
    public var initialDelay: Duration
    /// The longest delay between attempts.
    public var maximumDelay: Duration
    /// The growth factor from one attempt to the next, at least 1.
    public var multiplier: Double
    /// The fraction of each delay, from 0 to 1, that may be taken off at random.
    public var jitter: Double

    /// Reconnects with exponential backoff: 0.5 s, 1 s, 2 s, … up to 30 s by default.
    public static func exponentialBackoff(
        initialDelay: Duration = .milliseconds(500),
        maximumDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.25
    ) -> ReconnectPolicy {
        ReconnectPolicy(
            isEnabled: true, initialDelay: initialDelay, maximumDelay: maximumDelay,
            multiplier: multiplier, jitter: jitter)
    }

    /// Never reconnects: a dropped connection ends the client's work.
    public static let disabled = ReconnectPolicy(
        isEnabled: false, initialDelay: .zero, maximumDelay: .zero, multiplier: 1, jitter: 0)

    /// The delay before reconnect attempt `attempt` (1 for the first).
    public func delay(forAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(forAttempt: attempt, using: &generator)
    }

    /// The delay before reconnect attempt `attempt`, drawing the jitter from `generator`.
    public func delay(forAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let maximum = maximumDelay.seconds
        var capped = min(initialDelay.seconds, maximum)
        // Growth stops at the cap, so a long outage cannot overflow.
        var step = 1
        while step < attempt && capped < maximum && multiplier > 1 {
            capped = min(capped * multiplier, maximum)
            step += 1
        }
        let reduction = jitter > 0 ? Double.random(in: 0...jitter, using: &generator) : 0
        return .nanoseconds(Int64((capped * (1 - reduction) * 1e9).rounded()))
    }

    func validate() throws(MQTTClientError) {
        guard isEnabled else { return }
        if initialDelay <= .zero { throw .invalidConfiguration("the initial reconnect delay must be positive") }
        if maximumDelay < initialDelay {
            throw .invalidConfiguration("the maximum reconnect delay must not be shorter than the initial delay")
        }
        if !(multiplier >= 1) { throw .invalidConfiguration("the reconnect multiplier must be at least 1") }
        if !(0...1).contains(jitter) { throw .invalidConfiguration("the reconnect jitter must be between 0 and 1") }
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
