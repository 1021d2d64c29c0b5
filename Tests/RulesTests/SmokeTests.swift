import Testing
@testable import Rules

@Test func architectureExampleLoads() throws {
    let home = try validHome(devices: ["node.yaml": livingroomNode], rules: ["hot.yaml": """
        - id: hot-room-led
          description: Light the LED while the living room is hot
          when: { sensor: livingroom-node.temperature, above: 28, for: 30s }
          then:
            - set: livingroom-node.led
              to: on
          otherwise:
            - set: livingroom-node.led
              to: off
        - id: node-lost
          when: { device: livingroom-node, goes: offline }
          then:
            - publish: { topic: home/alerts, payload: "{{ device.name }} went offline" }
        """])
    #expect(home.summary == "1 device, 3 sensors, 1 actuator, 2 rules")
}

@Test func someErrors() {
    let found = errors(devices: ["node.yaml": livingroomNode], rules: ["hot.yaml": """
        - id: hot
          when: { sensor: livingroom-node.temprature, abve: 28 }
          then:
            - set: livingroom-node.led
              to: maybe
        """])
    print(found.joined(separator: "\n"))
    #expect(found.count == 3)
}
