import Foundation
import MQTT
import MQTTBroker
import NIOCore
import TestSupport

/// Helpers of the Auth tests that run the real Mosquitto.
enum AuthPeer {
    /// Sends CONNECT and returns the CONNACK's return code; nil when the
    /// broker closed the connection without one.
    static func connectReturnCode(
        port: Int, clientID: String = "auth-probe", username: String?, password: String?, version: ProtocolVersion = .v3_1_1
    ) async throws -> ConnectReturnCode? {
        let (client, code) = try await connect(port: port, clientID: clientID, username: username, password: password, version: version)
        await client.drop()
        return code
    }

    /// Connects; the client stays open for the caller when accepted.
    static func connect(
        port: Int, clientID: String, username: String?, password: String?, version: ProtocolVersion = .v3_1_1
    ) async throws -> (RawClient, ConnectReturnCode?) {
        let client = try await RawClient.connect(to: port, version: version)
        try await client.send(
            .connect(
                ConnectPacket(
                    protocolVersion: version, clientID: clientID, username: username, password: password.map { ByteBuffer(string: $0) })))
        do {
            guard case .connack(let connack) = try await client.next() else { throw RawClientError.unexpected("no CONNACK") }
            return (client, connack.returnCode)
        } catch RawClientError.closed {
            return (client, nil)
        }
    }

    /// Sends an MQTT 3.1.1 CONNECT with a password and no user name (which our
    /// encoder refuses to write) and tells whether the broker closed the
    /// connection without answering.
    static func closesOnPasswordWithoutUserName(port: Int) async throws -> Bool {
        let client = try await RawClient.connect(to: port)
        let body: [UInt8] = [0, 4] + Array("MQTT".utf8) + [4, 0x42, 0, 60] + [0, 5] + Array("probe".utf8) + [0, 4] + Array("1234".utf8)
        try await client.send(bytes: [0x10, UInt8(body.count)] + body)
        do {
            _ = try await client.next()
            return false
        } catch RawClientError.closed {
            return true
        }
    }

    /// Runs `mosquitto_passwd` and fails on a non-zero exit.
    @discardableResult
    static func mosquittoPasswd(_ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
        let result = try await run(try Peers.require("mosquitto_passwd"), arguments, stdin: stdin)
        guard result.status == 0 else { throw AuthPeerFailure("mosquitto_passwd \(arguments) exited with \(result.status): \(result.stderr)") }
        return result
    }
}

struct AuthPeerFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
