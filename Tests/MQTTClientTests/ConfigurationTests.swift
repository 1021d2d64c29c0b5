import MQTT
import NIOCore
import Testing

@testable import MQTTClient

@Suite(.timeLimit(.minutes(5))) struct ConfigurationTests {
    @Test func urlWithHostOnlyUsesTheDefaultPort() throws {
        let configuration = try MQTTClientConfiguration(url: "mqtt://broker.local")
        #expect(configuration.host == "broker.local")
        #expect(configuration.port == 1883)
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
    }

    @Test func urlWithCredentialsAndPort() throws {
        let configuration = try MQTTClientConfiguration(url: "mqtt://alice:s%40cr%3Aet@10.0.0.2:18830/")
        #expect(configuration.host == "10.0.0.2")
        #expect(configuration.port == 18830)
        #expect(configuration.username == "alice")
        #expect(configuration.password == "s@cr:et")
    }

    @Test func urlWithUserOnlyAndIPv6Host() throws {
        let configuration = try MQTTClientConfiguration(url: "tcp://bob@[::1]:1884")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 1884)
        #expect(configuration.username == "bob")
        #expect(configuration.password == nil)
    }

    @Test(arguments: [
        ("broker.local", "expected mqtt://host[:port]"),
        ("http://broker", "unknown scheme \"http\"; expected mqtt:// or mqtts://"),
        ("mqtt://", "the host is empty"),
        ("mqtt://broker:0", "port \"0\" is not a number between 1 and 65535"),
        ("mqtt://broker:70000", "port \"70000\" is not a number between 1 and 65535"),
        ("mqtt://broker:abc", "port \"abc\" is not a number between 1 and 65535"),
        ("mqtt://broker/home", "a broker URL has no path, query or fragment"),
        ("mqtt://a:%zz@broker", "a % escape needs two hexadecimal digits"),
        ("mqtt://:pw@broker", "the user name is empty"),
        ("mqtt://[::1", "unclosed [ in the host"),
    ])
    func invalidURLsAreExplained(url: String, reason: String) {
        #expect(throws: MQTTClientError.invalidURL(url, reason: reason)) {
            try MQTTClientConfiguration(url: url)
        }
    }

    @Test func emptyClientIDIsGeneratedWithinTheMQTT31Limit() throws {
        let configuration = MQTTClientConfiguration(host: "localhost")
        let first = configuration.resolvedClientID
        #expect(first.hasPrefix("homerules-"))
        #expect(first.utf8.count <= 23)
        #expect(first != configuration.resolvedClientID)
        var named = configuration
        named.clientID = "kitchen"
        #expect(named.resolvedClientID == "kitchen")
    }

    @Test func keepAliveIsSentInWholeSecondsRoundedUp() {
        var configuration = MQTTClientConfiguration(host: "localhost", keepAlive: .milliseconds(1500))
        #expect(configuration.connectPacket(clientID: "c").keepAlive == 2)
        configuration.keepAlive = .zero
        #expect(configuration.connectPacket(clientID: "c").keepAlive == 0)
    }

    @Test func connectPacketCarriesWillAndCredentials() {
        let will = Will(topic: "home/node/status", payload: ByteBuffer(string: "offline"), qos: .atLeastOnce, retain: true)
        let configuration = MQTTClientConfiguration(
            host: "localhost", cleanSession: false, will: will, username: "u", password: "p", protocolVersion: .v3_1)
        let packet = configuration.connectPacket(clientID: "node")
        #expect(packet == ConnectPacket(
            protocolVersion: .v3_1, clientID: "node", cleanSession: false, keepAlive: 60, will: will,
            username: "u", password: ByteBuffer(string: "p")))
    }

    @Test func invalidConfigurationsAreRefusedByTheClient() {
        var configuration = MQTTClientConfiguration(host: "localhost")
        configuration.password = "secret"
        #expect(throws: MQTTClientError.invalidConfiguration("a password needs a user name before MQTT 5")) {
            try MQTTClient(configuration: configuration)
        }
        configuration = MQTTClientConfiguration(host: "localhost", port: 0)
        #expect(throws: MQTTClientError.invalidConfiguration("port 0 is not between 1 and 65535")) {
            try MQTTClient(configuration: configuration)
        }
        configuration = MQTTClientConfiguration(
            host: "localhost", clientID: String(repeating: "x", count: 24), protocolVersion: .v3_1)
        #expect(throws: MQTTClientError.invalidConfiguration("MQTT 3.1 allows client ids of at most 23 bytes")) {
            try MQTTClient(configuration: configuration)
        }
        configuration = MQTTClientConfiguration(host: "localhost", will: Will(topic: "home/#", payload: ByteBuffer()))
        #expect(throws: MQTTClientError.invalidTopicName("home/#", .wildcardInName)) {
            try MQTTClient(configuration: configuration)
        }
    }
}
