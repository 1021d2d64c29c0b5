import Rules

/// Groups what was announced into one proposal per device, with ids and
/// member names that are valid and unique.
struct DiscoveryGrouping {
    private(set) var proposals: [DeviceProposal] = []
    private(set) var notConverted: [NotConverted] = []
    private var takenIDs: Set<String> = []

    /// Names that templates use for the device itself.
    private static let reservedMembers: Set = ["id", "name", "room", "presence"]

    /// One proposal per Zigbee2MQTT device that has any member.
    mutating func add(_ devices: [Zigbee2MQTTDevice], baseTopic: String) {
        for device in devices where !(device.members.sensors.isEmpty && device.members.actuators.isEmpty) {
            let presence: ProposedPresence = baseTopic == "zigbee2mqtt"
                ? .convention(.zigbee2mqtt, node: device.friendlyName)
                // The convention's topics start with the default base topic; spell them out for another.
                : .topic("\(baseTopic)/\(device.friendlyName)/availability", online: "online", offline: "offline", path: "state")
            var proposal = DeviceProposal(id: newID(device.friendlyName, fallback: device.ieeeAddress), name: device.friendlyName, presence: presence)
            proposal.sources = ["\(baseTopic)/bridge/devices (\(device.ieeeAddress))"]
            var taken = Self.reservedMembers
            add(device.members, to: &proposal, taken: &taken)
            proposals.append(proposal)
        }
    }

    /// One proposal per device of the configs: by `device.identifiers`,
    /// else the topic's node id, else the object id. A device that
    /// Zigbee2MQTT's list has too (`zigbee2mqtt_<ieee address>`) is proposed
    /// from that list alone.
    mutating func add(_ configs: [HomeAssistantConfig], skippingZigbee ieeeAddresses: Set<String>) {
        var order: [String] = []
        var groups: [String: [HomeAssistantConfig]] = [:]
        for config in configs {
            if groups[config.deviceKey] == nil { order.append(config.deviceKey) }
            groups[config.deviceKey, default: []].append(config)
        }
        for key in order {
            let group = groups[key] ?? []
            guard let first = group.first else { continue }
            if let ieee = first.deviceIdentifiers.lazy.compactMap({ Self.zigbeeAddress($0) }).first, ieeeAddresses.contains(ieee) {
                notConverted += group.map { NotConverted(topic: $0.discoveryTopic, reason: "proposed from the Zigbee2MQTT device list") }
                continue
            }
            if let proposal = proposal(for: group, first: first) { proposals.append(proposal) }
        }
    }

    private mutating func proposal(for group: [HomeAssistantConfig], first: HomeAssistantConfig) -> DeviceProposal? {
        let deviceName = group.lazy.compactMap(\.deviceName).first
        let name = deviceName ?? first.nodeID ?? first.entityName ?? first.objectID
        var proposal = DeviceProposal(id: "", name: name)
        proposal.presence = presence(of: group, notes: &proposal.notes)
        var taken = Self.reservedMembers
        for config in group {
            switch HomeAssistantMapping.members(of: config, named: memberName(of: config, deviceName: deviceName)) {
            case .success(let members):
                add(members, to: &proposal, taken: &taken)
                proposal.sources.append(config.discoveryTopic)
            case .failure(let reason):
                notConverted.append(reason)
            }
        }
        guard !proposal.sensors.isEmpty || !proposal.actuators.isEmpty else { return nil }
        proposal.id = newID(name, fallback: first.nodeID ?? first.objectID)
        return proposal
    }

    /// The first availability of the group's configs; they normally share it.
    private func presence(of group: [HomeAssistantConfig], notes: inout [String]) -> ProposedPresence? {
        guard let config = group.first(where: { !$0.availability.isEmpty }), let first = config.availability.first else { return nil }
        if config.availability.count > 1 {
            notes.append("\(config.availability.count) availability topics announced; only \(first.topic) is used")
        }
        var path: String?
        if let template = first.template {
            switch DiscoveryTemplates.lookup(template) {
            case .wholePayload: break
            case .path(let found): path = found
            case .notConverted: notes.append("availability value_template not converted: \(template)")
            }
        }
        return .topic(first.topic, online: first.online, offline: first.offline, path: path)
    }

    /// The entity's own name without its device's name in front, else its
    /// device class, else its component.
    private func memberName(of config: HomeAssistantConfig, deviceName: String?) -> String {
        var name = config.entityName ?? ""
        if let deviceName, name.lowercased().hasPrefix(deviceName.lowercased() + " ") {
            name = String(name.dropFirst(deviceName.count + 1))
        }
        if let deviceName, name.lowercased() == deviceName.lowercased() { name = "" }
        for candidate in [name, config.text("device_class") ?? "", config.component] {
            let slug = DiscoveryNames.slug(candidate)
            guard !slug.isEmpty else { continue }
            return Self.reservedMembers.contains(slug) ? "\(slug)-\(DiscoveryNames.slug(config.component))" : slug
        }
        return "value"
    }

    private mutating func add(_ members: DiscoveredMembers, to proposal: inout DeviceProposal, taken: inout Set<String>) {
        for var sensor in members.sensors {
            sensor.name = DiscoveryNames.unique(sensor.name, in: &taken)
            proposal.sensors.append(sensor)
        }
        for var actuator in members.actuators {
            actuator.name = DiscoveryNames.unique(actuator.name, in: &taken)
            proposal.actuators.append(actuator)
        }
        proposal.notes += members.notes
    }

    private mutating func newID(_ name: String, fallback: String) -> String {
        let slug = [name, fallback].lazy.map(DiscoveryNames.slug).first { !$0.isEmpty } ?? "device"
        return DiscoveryNames.unique(slug, in: &takenIDs)
    }

    /// `0x00158d0001a2b3c4` from Zigbee2MQTT's `zigbee2mqtt_0x00158d0001a2b3c4`.
    private static func zigbeeAddress(_ identifier: String) -> String? {
        guard identifier.hasPrefix("zigbee2mqtt_"), !identifier.hasPrefix("zigbee2mqtt_bridge_") else { return nil }
        return String(identifier.dropFirst("zigbee2mqtt_".count))
    }
}
