import Rules

/// The short keys that Home Assistant's MQTT discovery accepts for its long
/// ones, as firmwares with little memory (Tasmota, OpenMQTTGateway) send
/// them. Only the keys that `discover` reads, and those next to them that
/// a config commonly carries, are listed: an unknown short key is kept as
/// it is and then ignored, as an unknown long one is.
enum HomeAssistantAbbreviations {
    /// Top-level keys of a component's config.
    static let config: [String: String] = [
        "avty": "availability", "avty_mode": "availability_mode", "avty_t": "availability_topic",
        "avty_tpl": "availability_template",
        "bri_cmd_t": "brightness_command_topic", "bri_cmd_tpl": "brightness_command_template",
        "bri_scl": "brightness_scale", "bri_stat_t": "brightness_state_topic", "bri_tpl": "brightness_template",
        "bri_val_tpl": "brightness_value_template",
        "clr_temp_cmd_t": "color_temp_command_topic", "clr_temp_stat_t": "color_temp_state_topic",
        "cmd_off_tpl": "command_off_template", "cmd_on_tpl": "command_on_template",
        "cmd_t": "command_topic", "cmd_tpl": "command_template", "cmps": "components",
        "dev": "device", "dev_cla": "device_class", "e": "encoding", "en": "enabled_by_default",
        "ent_cat": "entity_category", "exp_aft": "expire_after", "frc_upd": "force_update",
        "fx_cmd_t": "effect_command_topic", "fx_list": "effect_list", "fx_stat_t": "effect_state_topic",
        "ic": "icon", "json_attr_t": "json_attributes_topic", "json_attr_tpl": "json_attributes_template",
        "max": "max", "min": "min", "mode_cmd_t": "mode_command_topic", "mode_stat_t": "mode_state_topic",
        "o": "origin", "obj_id": "object_id", "off_dly": "off_delay", "ops": "options", "opt": "optimistic",
        "osc_cmd_t": "oscillation_command_topic", "osc_stat_t": "oscillation_state_topic",
        "p": "platform", "pct_cmd_t": "percentage_command_topic", "pct_cmd_tpl": "percentage_command_template",
        "pct_stat_t": "percentage_state_topic", "pct_val_tpl": "percentage_value_template",
        "pl": "payload", "pl_avail": "payload_available", "pl_not_avail": "payload_not_available",
        "pl_off": "payload_off", "pl_on": "payload_on", "pl_prs": "payload_press",
        "pos_t": "position_topic", "pr_mode_cmd_t": "preset_mode_command_topic",
        "pr_mode_stat_t": "preset_mode_state_topic", "ret": "retain",
        "rgb_cmd_t": "rgb_command_topic", "rgb_stat_t": "rgb_state_topic",
        "stat_cla": "state_class", "stat_off": "state_off", "stat_on": "state_on",
        "stat_t": "state_topic", "stat_tpl": "state_template", "stat_val_tpl": "state_value_template",
        "sug_dsp_prc": "suggested_display_precision", "sup_clrm": "supported_color_modes",
        "temp_cmd_t": "temperature_command_topic", "temp_stat_t": "temperature_state_topic",
        "uniq_id": "unique_id", "unit_of_meas": "unit_of_measurement", "val_tpl": "value_template",
    ]

    /// Keys of the `device` mapping.
    static let device: [String: String] = [
        "cns": "connections", "cu": "configuration_url", "hw": "hw_version", "ids": "identifiers",
        "mdl": "model", "mdl_id": "model_id", "mf": "manufacturer", "sa": "suggested_area",
        "sn": "serial_number", "sw": "sw_version", "via_device": "via_device",
    ]

    /// Keys of an entry of the `availability` list.
    static let availability: [String: String] = [
        "pl_avail": "payload_available", "pl_not_avail": "payload_not_available", "t": "topic",
        "val_tpl": "value_template",
    ]

    /// `members` with every short key replaced by its long one; a long key
    /// given as well wins.
    static func expand(_ members: [String: JSONValue], with table: [String: String]) -> [String: JSONValue] {
        var expanded: [String: JSONValue] = [:]
        for (key, value) in members where table[key] == nil { expanded[key] = value }
        for (key, value) in members {
            guard let long = table[key], expanded[long] == nil else { continue }
            expanded[long] = value
        }
        return expanded
    }
}
