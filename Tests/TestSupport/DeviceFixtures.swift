/// A Zigbee2MQTT dimmable bulb, as Zigbee2MQTT has it: the light and its
/// brightness share one command topic and one JSON state topic; the
/// brightness is a number actuator with a command template.
public let zigbeeDeskLamp = """
    id: desk-lamp
    convention: zigbee2mqtt
    actuators:
      light:
        command_topic: zigbee2mqtt/desk-lamp/set
        state_topic: zigbee2mqtt/desk-lamp
        state_path: state
        payloads: { on: '{"state":"ON"}', off: '{"state":"OFF"}' }
      brightness:
        type: number
        min: 0
        max: 254
        unit: "%"
        command_topic: zigbee2mqtt/desk-lamp/set
        command_template: '{"brightness": {{ value }}}'
        state_topic: zigbee2mqtt/desk-lamp
        state_path: brightness
    """
