import Rules

/// What `homerules discover` heard, within bounds: the Home Assistant
/// discovery configs under a prefix, by topic (a later message replaces an
/// earlier one; an empty one removes it, as in Home Assistant), and the
/// last device list of Zigbee2MQTT.
public struct DiscoveryCollector: Sendable {
    /// The largest config read; a larger one is reported and skipped.
    public static let maximumPayloadBytes = 64 * 1024
    /// The largest Zigbee2MQTT device list read: it describes every device
    /// of the network at once, some kilobytes each.
    public static let maximumDeviceListBytes = 8 * 1024 * 1024
    /// The most configs kept (and Zigbee2MQTT devices read); more are
    /// counted and reported, not kept.
    public static let maximumConfigs = 10_000

    /// Home Assistant's discovery prefix, `homeassistant` by default.
    public let prefix: String
    /// Zigbee2MQTT's `base_topic`, `zigbee2mqtt` by default.
    public let baseTopic: String
    private var configs: [String: [UInt8]] = [:]
    private var deviceList: [UInt8]?
    private var tooLarge: [NotConverted] = []
    private var overflow = 0

    public init(prefix: String = "homeassistant", baseTopic: String = "zigbee2mqtt") {
        self.prefix = prefix
        self.baseTopic = baseTopic
    }

    /// The filters to subscribe to.
    public var filters: [String] { ["\(prefix)/#", deviceListTopic] }

    var deviceListTopic: String { "\(baseTopic)/bridge/devices" }

    /// How many configs are kept.
    public var configCount: Int { configs.count }

    /// Takes one message; ignores those on no config topic, such as
    /// Home Assistant's own `homeassistant/status`.
    public mutating func add(topic: String, payload: [UInt8]) {
        if topic == deviceListTopic {
            guard payload.count <= Self.maximumDeviceListBytes else {
                tooLarge.append(NotConverted(topic: topic, reason: "\(payload.count) bytes; discover reads at most \(Self.maximumDeviceListBytes)"))
                return
            }
            deviceList = payload
            return
        }
        guard HomeAssistantConfig.parts(ofTopic: topic, prefix: prefix) != nil else { return }
        guard !payload.isEmpty else {
            configs[topic] = nil
            return
        }
        guard payload.count <= Self.maximumPayloadBytes else {
            tooLarge.append(NotConverted(topic: topic, reason: "\(payload.count) bytes; discover reads at most \(Self.maximumPayloadBytes)"))
            return
        }
        guard configs[topic] != nil || configs.count < Self.maximumConfigs else {
            overflow += 1
            return
        }
        configs[topic] = payload
    }

    /// The proposals, and what was heard that gives none.
    public func report() -> DiscoveryReport {
        var report = DiscoveryReport(configCount: configs.count)
        report.skipped = tooLarge
        if overflow > 0 {
            report.skipped.append(NotConverted(
                topic: "\(prefix)/#", reason: "more than \(Self.maximumConfigs) configs; \(overflow) more left out"))
        }
        var zigbee: [Zigbee2MQTTDevice] = []
        if let deviceList {
            switch JSONValue.parse(deviceList, maximumBytes: Self.maximumDeviceListBytes) {
            case .success(let document):
                let read = Zigbee2MQTTMapping.devices(in: document, baseTopic: baseTopic, limit: Self.maximumConfigs)
                zigbee = read.devices
                report.notConverted += read.notConverted
            case .failure(let refusal):
                report.skipped.append(NotConverted(topic: deviceListTopic, reason: refusal.description))
            }
        }
        var homeAssistant: [HomeAssistantConfig] = []
        for (topic, payload) in configs.sorted(by: { $0.key < $1.key }) {
            guard let parts = HomeAssistantConfig.parts(ofTopic: topic, prefix: prefix) else { continue }
            switch JSONValue.parse(payload, maximumBytes: Self.maximumPayloadBytes) {
            case .success(let document):
                if let config = HomeAssistantConfig(
                    topic: topic, component: parts.component, nodeID: parts.nodeID, objectID: parts.objectID, document: document) {
                    homeAssistant.append(config)
                } else {
                    report.skipped.append(NotConverted(topic: topic, reason: "not a JSON object"))
                }
            case .failure(let refusal):
                report.skipped.append(NotConverted(topic: topic, reason: refusal.description))
            }
        }
        var grouping = DiscoveryGrouping()
        grouping.add(zigbee, baseTopic: baseTopic)
        grouping.add(homeAssistant, skippingZigbee: Set(zigbee.map(\.ieeeAddress)))
        report.proposals = grouping.proposals.sorted { $0.id < $1.id }
        report.notConverted += grouping.notConverted
        return report
    }
}

/// What `discover` found: the device files it proposes, and the
/// announcements that give none.
public struct DiscoveryReport: Sendable, Hashable {
    /// How many Home Assistant configs were read.
    public var configCount: Int
    public var proposals: [DeviceProposal] = []
    /// Components and parts with no counterpart in a device file.
    public var notConverted: [NotConverted] = []
    /// Payloads beyond the bounds, or not JSON.
    public var skipped: [NotConverted] = []
}
