import Foundation
import MQTT
import MQTTClient
import TestSupport
import Testing

/// Our client against the independent command-line clients of Mosquitto.
@Suite(.timeLimit(.minutes(5))) struct InteroperabilityTests {
    @Test(.enabled(if: Peers.enabled("mosquitto", "mosquitto_sub")))
    func mosquittoSubReceivesWhatWePublish() async throws {
        let mosquittoSub = try Peers.require("mosquitto_sub")
        let broker = try await MosquittoBroker.start()
        let sub = try BackgroundProcess(mosquittoSub, [
            "-h", "127.0.0.1", "-p", "\(broker.port)", "-i", "listener", "-t", "lab/#", "-q", "2", "-v", "-C", "3",
        ])
        defer { sub.stop() }
        try await broker.waitForLog("Received SUBSCRIBE from listener")

        let client = try await broker.connectedClient()
        try await client.publish(topic: "lab/one", payload: "1", qos: .atMostOnce)
        try await client.publish(topic: "lab/two", payload: "2", qos: .atLeastOnce)
        try await client.publish(topic: "lab/three", payload: "3 three", qos: .exactlyOnce)
        #expect(await sub.waitForExit(timeout: 30) == 0)
        #expect(sub.output.split(separator: "\n") == ["lab/one 1", "lab/two 2", "lab/three 3 three"])
        await client.disconnect()
    }

    @Test(.enabled(if: Peers.enabled("mosquitto", "mosquitto_pub")))
    func weReceiveWhatMosquittoPubPublishes() async throws {
        let mosquittoPub = try Peers.require("mosquitto_pub")
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient()
        let collector = MessageCollector()
        _ = try await client.subscribe("lab/#", qos: .exactlyOnce, handler: collector.handler)

        for qos in 0...2 {
            let result = try await run(mosquittoPub, [
                "-h", "127.0.0.1", "-p", "\(broker.port)", "-t", "lab/q\(qos)", "-m", "qos \(qos)", "-q", "\(qos)",
            ])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let retained = try await run(mosquittoPub, [
            "-h", "127.0.0.1", "-p", "\(broker.port)", "-t", "lab/retained", "-m", "kept", "-q", "1", "-r",
        ])
        #expect(retained.status == 0)

        let received = try await collector.waitFor(count: 4)
        #expect(received.map(\.payloadString) == ["qos 0", "qos 1", "qos 2", "kept"])
        #expect(received.map(\.qos) == [.atMostOnce, .atLeastOnce, .exactlyOnce, .atLeastOnce])
        let beforeMarker = try await collector.messages(beforeMarker: "marker") {
            try await client.publish(topic: "lab/marker", payload: "marker", qos: .exactlyOnce)
        }
        #expect(beforeMarker.count == 4)

        let late = MessageCollector()
        _ = try await client.subscribe("lab/retained", qos: .atLeastOnce, handler: late.handler)
        let kept = try await late.waitFor(count: 1)[0]
        #expect(kept.payloadString == "kept" && kept.retain)
        await client.disconnect()
    }
}
