import Foundation

/// Messages into device state: presence, sensor values, actuator states.
extension Engine {
    mutating func receive(_ message: IncomingMessage, at now: EngineTime, _ effects: inout Effects) {
        for interest in index.topics.values(matching: message.topic) {
            switch interest {
            case .presence(let device):
                heard(from: device, message, at: now)
                receivePresence(message, device: device, at: now, &effects)
            case .sensor(let device, let sensor):
                heard(from: device, message, at: now)
                presenceFromActivity(device: device, message, at: now, &effects)
                receiveSensor(message, device: device, sensor: sensor, at: now, &effects)
            case .actuatorState(let device, let actuator):
                heard(from: device, message, at: now)
                presenceFromActivity(device: device, message, at: now, &effects)
                receiveActuatorState(message, device: device, actuator: actuator, at: now, &effects)
            case .mqttTrigger(let ref):
                observeMessage(message, trigger: ref, at: now, &effects)
            }
        }
    }

    /// Notes that a device spoke, and arms its `expire_after` timer. A live
    /// message confirms restored presence.
    private mutating func heard(from device: Int, _ message: IncomingMessage, at now: EngineTime) {
        if !message.retained {
            devices[device].lastSeen = now.wall
            confirm(device: device)
        }
        devices[device].lastMessage = now.monotonic
        armExpiry(device: device)
    }

    /// The device's presence is no longer provisional.
    private mutating func confirm(device: Int) {
        guard devices[device].provisional else { return }
        devices[device].provisional = false
        timers.cancel(.grace(device: device))
    }

    /// With `expire_after`, any live message shows the device is there:
    /// it brings back a device that fell silent, and is the only sign of
    /// life for one without a presence topic.
    private mutating func presenceFromActivity(device: Int, _ message: IncomingMessage, at now: EngineTime, _ effects: inout Effects) {
        guard let presence = home.devices[device].presence, presence.expireAfter != nil, !message.retained else { return }
        let state = devices[device].presence
        let silentBefore = presence.topic == nil ? state != .online : devices[device].offlineBySilence
        guard silentBefore else { return }
        setPresence(device: device, to: .online, live: true, reason: "heard on \(message.topic)", at: now, &effects)
    }

    private mutating func receivePresence(_ message: IncomingMessage, device: Int, at now: EngineTime, _ effects: inout Effects) {
        guard let state = home.devices[device].presence?.state(announcedBy: message.payload) else {
            effects.emit(.messageIgnored(IgnoredMessage(
                topic: message.topic,
                reason: "'\(message.text.prefix(40))' is not a presence payload of device '\(home.devices[device].id)'")))
            return
        }
        if message.retained, devices[device].presenceIsLive {
            ignoreStaleRetained(message, &effects)
            return
        }
        // A retained state is the broker's: it holds the device's will.
        confirm(device: device)
        setPresence(device: device, to: state, live: !message.retained, reason: "announced '\(message.text)' on \(message.topic)", at: now, &effects)
    }

    mutating func setPresence(device: Int, to state: PresenceState, live: Bool, reason: String, at now: EngineTime, _ effects: inout Effects) {
        devices[device].presenceIsLive = live
        devices[device].offlineBySilence = false
        let previous = devices[device].presence
        guard state != previous else { return }
        devices[device].presence = state
        devices[device].presenceSince = now.wall
        effects.emit(.presenceChanged(PresenceChange(
            device: home.devices[device].id, from: previous, to: state, since: now.wall, reason: reason)))
        if state == .offline { markUnavailable(device: device, at: now, &effects) }
        for ref in index.presenceTriggers[device] {
            observePresence(trigger: ref, device: device, previous: previous, fresh: live, at: now, &effects)
        }
    }

    /// Values of an offline device are stale: the next one is a first value,
    /// and triggers waiting on them stop waiting.
    private mutating func markUnavailable(device: Int, at now: EngineTime, _ effects: inout Effects) {
        for sensor in devices[device].sensors.indices { devices[device].sensors[sensor].available = false }
        for actuator in devices[device].actuators.indices { devices[device].actuators[actuator].available = false }
        let watching: [TriggerRef] = Array(index.sensorTriggers[device].joined()) + Array(index.actuatorTriggers[device].joined())
        for ref in watching {
            guard case .waiting(let waiting) = rules[ref.rule].triggers[ref.trigger].phase else { continue }
            rules[ref.rule].triggers[ref.trigger].phase = .idle
            timers.cancel(.hold(rule: ref.rule, trigger: ref.trigger, topic: nil))
            let held = Formatting.duration(seconds: max(0, now.monotonic.seconds(since: waiting.since)))
            effects.trace(ref, rule: home.rules[ref.rule].id, .skipped,
                          "stopped waiting after \(held): \(home.devices[device].id) went offline", origin: waiting.origin)
        }
    }

    private mutating func receiveSensor(_ message: IncomingMessage, device: Int, sensor: Int, at now: EngineTime, _ effects: inout Effects) {
        let definition = home.devices[device].sensors[sensor]
        let value: SensorValue
        switch SensorReading.value(of: message.payload, for: definition) {
        case .success(let read): value = read
        case .failure(let failure):
            effects.emit(.messageIgnored(IgnoredMessage(
                topic: message.topic, reason: "sensor \(home.devices[device].id).\(definition.name): \(failure.reason)")))
            return
        }
        var runtime = devices[device].sensors[sensor]
        if message.retained, runtime.isLive {
            ignoreStaleRetained(message, &effects)
            return
        }
        let previous = runtime.current
        // A retained copy of a restored value is no fresher than it was.
        let restored = message.retained && runtime.restored
        runtime = ValueRuntime(value: value, updatedAt: now.wall, available: true, isLive: !message.retained, restored: restored)
        devices[device].sensors[sensor] = runtime
        effects.emit(.sensorUpdated(SensorUpdate(
            device: home.devices[device].id, sensor: definition.name, value: value, previous: previous, at: now.wall)))
        for ref in index.sensorTriggers[device][sensor] {
            observeSensor(
                trigger: ref, value: value, previous: previous, topic: message.topic, payload: message.text, fresh: !message.retained,
                at: now, &effects)
        }
    }

    private mutating func receiveActuatorState(_ message: IncomingMessage, device: Int, actuator: Int, at now: EngineTime, _ effects: inout Effects) {
        let definition = home.devices[device].actuators[actuator]
        guard let state = SensorReading.actuatorState(of: message.payload, for: definition) else {
            effects.emit(.messageIgnored(IgnoredMessage(
                topic: message.topic,
                reason: "'\(message.text.prefix(40))' is neither the on nor the off payload of \(home.devices[device].id).\(definition.name)")))
            return
        }
        if message.retained, devices[device].actuators[actuator].isLive {
            ignoreStaleRetained(message, &effects)
            return
        }
        setActuator(device: device, actuator: actuator, to: state, live: !message.retained, assumed: false,
                    topic: message.topic, at: now, origin: effects.input, &effects)
    }

    mutating func setActuator(
        device: Int, actuator: Int, to state: ActuatorState, live: Bool, assumed: Bool, topic: String?, at now: EngineTime,
        origin: InputID, _ effects: inout Effects
    ) {
        let previous = devices[device].actuators[actuator].current
        let restored = !live && devices[device].actuators[actuator].restored
        devices[device].actuators[actuator] = ValueRuntime(value: state, updatedAt: now.wall, available: true, isLive: live, restored: restored)
        effects.emit(.actuatorUpdated(ActuatorUpdate(
            device: home.devices[device].id, actuator: home.devices[device].actuators[actuator].name,
            state: state, previous: previous, at: now.wall, assumed: assumed)), origin: origin)
        for ref in index.actuatorTriggers[device][actuator] {
            observeActuator(trigger: ref, state: state, previous: previous, topic: topic, fresh: live, at: now, origin: origin, &effects)
        }
    }

    /// A retained copy arriving after a live message may be older than it:
    /// the live state stands.
    private func ignoreStaleRetained(_ message: IncomingMessage, _ effects: inout Effects) {
        effects.emit(.messageIgnored(IgnoredMessage(
            topic: message.topic, reason: "retained '\(message.text.prefix(40))' is older than the live message already received")))
    }

    // MARK: Silence

    /// When the device's silence runs out, given what was last heard.
    func expiryDeadline(device: Int) -> MonotonicInstant? {
        guard let expireAfter = home.devices[device].presence?.expireAfter else { return nil }
        let heard = max(devices[device].lastMessage ?? startedAt, startedAt)
        return heard.advanced(by: expireAfter.timeInterval)
    }

    /// Schedules the expiry check unless one is pending: the check re-arms
    /// itself when messages came meanwhile, so a busy device costs no
    /// timer work per message.
    mutating func armExpiry(device: Int) {
        guard timers.deadline(of: .expiry(device: device)) == nil, let deadline = expiryDeadline(device: device) else { return }
        timers.schedule(.expiry(device: device), at: deadline)
    }

    mutating func checkExpiry(device: Int, at time: EngineTime, _ effects: inout Effects) {
        guard let deadline = expiryDeadline(device: device) else { return }
        guard deadline <= time.monotonic else {
            timers.schedule(.expiry(device: device), at: deadline)
            return
        }
        guard devices[device].presence != .offline else { return }
        let silence = home.devices[device].presence!.expireAfter!
        let reason = devices[device].provisional
            ? "\(Self.notHeardSinceRestart) (expire_after \(silence.spoken))" : "silent for \(silence.spoken) (expire_after)"
        confirm(device: device)
        setPresence(device: device, to: .offline, live: true, reason: reason, at: time, &effects)
        devices[device].offlineBySilence = true
    }

    static let notHeardSinceRestart = "not heard from since the restart"

    /// A device whose presence was restored was not heard from within its
    /// grace period: it goes offline, as for any loss, and rules on
    /// `goes: offline` run. With the embedded broker nothing else would
    /// tell: after the restart it holds neither a retained state nor a will.
    mutating func graceEnded(device: Int, at time: EngineTime, _ effects: inout Effects) {
        guard devices[device].provisional else { return }
        devices[device].provisional = false
        let grace = policy.gracePeriod(of: home.devices[device])
        setPresence(device: device, to: .offline, live: true, reason: "\(Self.notHeardSinceRestart) (grace period \(grace.spoken))", at: time, &effects)
        devices[device].offlineBySilence = true
    }
}
