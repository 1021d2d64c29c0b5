/// Discovery payloads as the firmwares document and publish them (written
/// for these tests after their documentation, not copied from a device):
/// topic → payload.
enum DiscoveryFixtures {
    /// Tasmota with `SetOption19 1`: short keys, an AM2301 on the SENSOR
    /// message and the relay's state in the STATE message.
    static let tasmota: [String: String] = [
        "homeassistant/sensor/1C9A3B_AM2301_Temperature/config": #"""
            {"name":"Tasmota AM2301 Temperature","stat_t":"tele/tasmota_1C9A3B/SENSOR","avty_t":"tele/tasmota_1C9A3B/LWT",
             "pl_avail":"Online","pl_not_avail":"Offline","uniq_id":"1C9A3B_AM2301_Temperature","dev":{"ids":["1C9A3B"]},
             "unit_of_meas":"°C","dev_cla":"temperature","frc_upd":true,"val_tpl":"{{value_json['AM2301'].Temperature}}"}
            """#,
        "homeassistant/switch/1C9A3B_RL_1/config": #"""
            {"name":"Tasmota","cmd_t":"cmnd/tasmota_1C9A3B/POWER","stat_t":"tele/tasmota_1C9A3B/STATE","val_tpl":"{{value_json.POWER}}",
             "pl_off":"OFF","pl_on":"ON","avty_t":"tele/tasmota_1C9A3B/LWT","pl_avail":"Online","pl_not_avail":"Offline",
             "uniq_id":"1C9A3B_RL_1","dev":{"ids":["1C9A3B"],"name":"Tasmota","mdl":"Sonoff Basic","sw":"9.1.0","mf":"Tasmota"}}
            """#,
    ]

    static let esphomeDevice = #"{"ids":"a4cf12ab34cd","name":"livingroom","sw":"esphome v2024.4.1","mdl":"nodemcuv2","mf":"espressif"}"#

    /// ESPHome's MQTT component: a sensor, a switch, and a light with the
    /// JSON schema and brightness.
    static let esphome: [String: String] = [
        "homeassistant/sensor/livingroom/livingroom_temperature/config": #"""
            {"dev_cla":"temperature","unit_of_meas":"°C","stat_cla":"measurement","name":"Temperature",
             "stat_t":"livingroom/sensor/livingroom_temperature/state","avty_t":"livingroom/status",
             "uniq_id":"ESPsensorlivingroom_temperature","dev":\#(esphomeDevice)}
            """#,
        "homeassistant/switch/livingroom/livingroom_relay/config": #"""
            {"name":"Relay","stat_t":"livingroom/switch/relay/state","cmd_t":"livingroom/switch/relay/command",
             "avty_t":"livingroom/status","uniq_id":"ESPswitchrelay","dev":\#(esphomeDevice)}
            """#,
        "homeassistant/light/livingroom/livingroom_lamp/config": #"""
            {"name":"Lamp","schema":"json","brightness":true,"sup_clrm":["brightness"],"stat_t":"livingroom/light/lamp/state",
             "cmd_t":"livingroom/light/lamp/command","avty_t":"livingroom/status","uniq_id":"ESPlightlamp","dev":\#(esphomeDevice)}
            """#,
    ]

    /// A Shelly 1 announced by a discovery script: topics under `~`.
    static let shelly: [String: String] = [
        "homeassistant/switch/shelly1-98CDAC1F0A2B/relay-0/config": #"""
            {"name":"Shelly1 Relay 0","cmd_t":"~relay/0/command","stat_t":"~relay/0","pl_off":"off","pl_on":"on",
             "avty_t":"~online","pl_avail":"true","pl_not_avail":"false","uniq_id":"98cdac1f0a2b-relay-0","qos":0,
             "dev":{"ids":["98cdac1f0a2b"],"name":"Shelly1","mdl":"Shelly 1","mf":"Allterco Robotics"},
             "~":"shellies/shelly1-98CDAC1F0A2B/"}
            """#,
    ]

    /// OpenMQTTGateway's BLE gateway announcing a Xiaomi thermometer; its
    /// templates filter the value (`| is_defined`).
    static let openMQTTGateway: [String: String] = [
        "homeassistant/sensor/A4C138AABBCC-tempc/config": #"""
            {"stat_t":"home/OMG_ESP32_BLE/BTtoMQTT/A4C138AABBCC","dev_cla":"temperature","unit_of_meas":"°C","name":"tempc",
             "val_tpl":"{{ value_json.tempc | is_defined }}","uniq_id":"A4C138AABBCC-tempc","stat_cla":"measurement",
             "avty_t":"home/OMG_ESP32_BLE/LWT","pl_avail":"online","pl_not_avail":"offline",
             "dev":{"ids":["A4C138AABBCC"],"cns":[["mac","A4C138AABBCC"]],"mf":"Xiaomi","mdl":"LYWSD03MMC","name":"LYWSD03MMC-AABBCC",
                    "via_device":"OMG_ESP32_BLE"}}
            """#,
        "homeassistant/binary_sensor/A4C138AABBCC-open/config": #"""
            {"stat_t":"home/OMG_ESP32_BLE/BTtoMQTT/A4C138AABBCC","name":"open","val_tpl":"{{ value_json.open }}",
             "pl_on":true,"pl_off":false,"uniq_id":"A4C138AABBCC-open","dev":{"ids":["A4C138AABBCC"],"name":"LYWSD03MMC-AABBCC"}}
            """#,
    ]

    /// A thermostat: no counterpart in a device file.
    static let climate: [String: String] = [
        "homeassistant/climate/hallway/thermostat/config": #"""
            {"name":"Thermostat","mode_cmd_t":"hallway/thermostat/mode/set","mode_stat_t":"hallway/thermostat/mode",
             "modes":["off","heat","auto"],"temp_cmd_t":"hallway/thermostat/target/set","dev":{"ids":["hallway-thermostat"],"name":"Hallway"}}
            """#,
    ]

    /// Zigbee2MQTT's `bridge/devices`: the coordinator, an Aqara
    /// temperature and humidity sensor, a plug, and a dimmable bulb.
    static let zigbee2mqttDevices = #"""
        [
         {"ieee_address":"0x00124b0022aabbcc","type":"Coordinator","friendly_name":"Coordinator","definition":null},
         {"ieee_address":"0x00158d0001a2b3c4","type":"EndDevice","friendly_name":"bedroom sensor","supported":true,
          "definition":{"model":"WSDCGQ11LM","vendor":"Aqara","exposes":[
            {"type":"numeric","name":"temperature","property":"temperature","access":1,"unit":"°C"},
            {"type":"numeric","name":"humidity","property":"humidity","access":1,"unit":"%"},
            {"type":"numeric","name":"battery","property":"battery","access":1,"unit":"%","value_min":0,"value_max":100},
            {"type":"numeric","name":"linkquality","property":"linkquality","access":1,"unit":"lqi","value_min":0,"value_max":255}]}},
         {"ieee_address":"0x0c4314fffe112233","type":"Router","friendly_name":"desk plug","supported":true,
          "definition":{"model":"E1603/E1702/E1708","vendor":"IKEA","exposes":[
            {"type":"switch","features":[{"type":"binary","name":"state","property":"state","access":7,
              "value_on":"ON","value_off":"OFF","value_toggle":"TOGGLE"}]},
            {"type":"enum","name":"power_on_behavior","property":"power_on_behavior","access":7,"values":["off","on","toggle","previous"]},
            {"type":"numeric","name":"linkquality","property":"linkquality","access":1,"unit":"lqi"}]}},
         {"ieee_address":"0x000b57fffe445566","type":"Router","friendly_name":"hall bulb","supported":true,
          "definition":{"model":"LED1836G9","vendor":"IKEA","exposes":[
            {"type":"light","features":[
              {"type":"binary","name":"state","property":"state","access":7,"value_on":"ON","value_off":"OFF","value_toggle":"TOGGLE"},
              {"type":"numeric","name":"brightness","property":"brightness","access":7,"value_min":0,"value_max":254}]},
            {"type":"enum","name":"effect","property":"effect","access":2,"values":["blink","breathe","okay","stop_effect"]},
            {"type":"composite","name":"color_xy","property":"color","access":7,"features":[]},
            {"type":"numeric","name":"linkquality","property":"linkquality","access":1,"unit":"lqi"}]}},
         {"ieee_address":"0x00158d0009998877","type":"EndDevice","friendly_name":"0x00158d0009998877","supported":false,"definition":null}
        ]
        """#

    /// Every Home Assistant fixture above.
    static var allConfigs: [String: String] {
        [tasmota, esphome, shelly, openMQTTGateway, climate].reduce(into: [:]) { $0.merge($1) { first, _ in first } }
    }
}
