/// The availability topics that device firmwares already use, so that a
/// device file can say `convention: tasmota` instead of spelling them out.
public enum PresenceConvention: String, Sendable, Hashable, Codable, CaseIterable {
    /// `tele/<topic>/LWT` with `Online` / `Offline`.
    case tasmota
    /// `<node>/status` with `online` / `offline`.
    case esphome
    /// `zigbee2mqtt/<friendly name>/availability` with `{"state":"online"}`
    /// / `{"state":"offline"}` (or the legacy plain `online` / `offline`).
    case zigbee2mqtt
    /// `shellies/<id>/online` with `true` / `false`.
    case shelly
    /// `homie/<id>/$state`: `ready` is online; `lost` and `disconnected` are
    /// offline; `sleeping`, `init` and `alert` are states of their own.
    case homie

    /// The status topic for a device that calls itself `node` in its topics.
    public func topic(node: String) -> String {
        switch self {
        case .tasmota: "tele/\(node)/LWT"
        case .esphome: "\(node)/status"
        case .zigbee2mqtt: "zigbee2mqtt/\(node)/availability"
        case .shelly: "shellies/\(node)/online"
        case .homie: "homie/\(node)/$state"
        }
    }

    /// Payload to state.
    public var payloads: [String: PresenceState] {
        switch self {
        case .tasmota, .esphome, .zigbee2mqtt: ["online": .online, "offline": .offline]
        case .shelly: ["true": .online, "false": .offline]
        case .homie:
            [
                "ready": .online, "lost": .offline, "disconnected": .offline,
                "sleeping": .sleeping, "init": .initializing, "alert": .alert,
            ]
        }
    }

    /// Where the state sits in a JSON payload.
    public var path: JSONPath? {
        self == .zigbee2mqtt ? JSONPath("state") : nil
    }
}
