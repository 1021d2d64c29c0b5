import MQTT
import MQTTTopics

/// Why an ``MQTTClient`` operation failed, or why a connection ended.
public enum MQTTClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The broker URL cannot be read.
    case invalidURL(String, reason: String)
    /// The configuration holds a value that cannot work.
    case invalidConfiguration(String)
    /// No TCP connection to the broker could be made.
    case unreachable(host: String, port: Int, reason: String)
    /// The broker did not answer CONNECT with CONNACK in time.
    case connectTimeout(host: String, port: Int, timeout: Duration)
    /// The broker answered CONNACK with a refusal.
    case connectionRefused(ConnectReturnCode)
    /// The TLS handshake failed, or TLS broke the connection: the broker's
    /// certificate was not trusted, or the broker refused ours.
    case tlsFailed(String)
    /// An established connection ended without `disconnect()`.
    case connectionLost(reason: String)
    /// MQTT 5: the broker ended the connection with DISCONNECT, saying why.
    case disconnectedByBroker(MQTTReasonCode, reason: String?)
    /// MQTT 5: the broker refused a QoS 1 or 2 publish (PUBACK or PUBREC
    /// with an error reason code, such as 0x87 Not authorized).
    case publishRefused(MQTTReasonCode, reason: String?)
    /// Nothing arrived within the ping timeout after a PINGREQ.
    case keepAliveTimeout
    /// The broker sent something MQTT does not allow; the connection was closed.
    case protocolViolation(String)
    /// There is no connection, and none is being (re)established.
    case notConnected
    /// `connect()` was called while connected or connecting.
    case alreadyConnected
    /// The operation was abandoned because `disconnect()` was called.
    case disconnected
    /// A topic name that no broker would accept.
    case invalidTopicName(String, Topic.SyntaxError)
    /// A topic filter that no broker would accept.
    case invalidTopicFilter(String, Topic.SyntaxError)
    /// A topic, client id or user name contains U+0000, which MQTT forbids.
    case nullCharacter(in: String)
    /// The broker answered SUBSCRIBE with failure (0x80) for these filters.
    case subscriptionRefused(filters: [String])
    /// A packet larger than the configured maximum.
    case packetTooLarge(size: Int, limit: Int)
    /// A packet MQTT cannot express (a string over 65,535 bytes, a property
    /// out of range...); nothing was sent.
    case unencodable(MQTTProtocolError)
    /// More QoS 1/2 publishes are waiting than `maximumQueuedMessages` allows.
    case queueFull(limit: Int)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            "invalid broker URL \"\(url)\": \(reason)"
        case .invalidConfiguration(let reason):
            "invalid MQTT client configuration: \(reason)"
        case .unreachable(let host, let port, let reason):
            "cannot reach the MQTT broker at \(host):\(port): \(reason)"
        case .connectTimeout(let host, let port, let timeout):
            "the MQTT broker at \(host):\(port) did not accept the connection within \(timeout)"
        case .connectionRefused(let code) where code.rawValue >= 0x80:
            "the MQTT broker refused the connection: \(MQTTReasonCode(rawValue: code.rawValue))"
        case .connectionRefused(let code):
            "the MQTT broker refused the connection: \(code) (CONNACK return code \(code.rawValue))"
        case .disconnectedByBroker(let code, let reason):
            "the MQTT broker ended the connection: \(code)\(reason.map { ", \"\($0)\"" } ?? "")"
        case .publishRefused(let code, let reason):
            "the MQTT broker refused the message: \(code)\(reason.map { ", \"\($0)\"" } ?? "")"
        case .tlsFailed(let reason):
            "TLS with the MQTT broker failed: \(reason)"
        case .connectionLost(let reason):
            "the connection to the MQTT broker was lost: \(reason)"
        case .keepAliveTimeout:
            "the MQTT broker did not answer PINGREQ in time"
        case .protocolViolation(let reason):
            "the MQTT broker violated the protocol: \(reason)"
        case .notConnected:
            "the MQTT client is not connected"
        case .alreadyConnected:
            "the MQTT client is already connected or connecting"
        case .disconnected:
            "the MQTT client was disconnected before the operation completed"
        case .invalidTopicName(let topic, let error):
            "invalid topic name \"\(topic)\": \(error)"
        case .invalidTopicFilter(let filter, let error):
            "invalid topic filter \"\(filter)\": \(error)"
        case .nullCharacter(let string):
            "\"\(string.replacing("\u{0}", with: "\\0"))\" contains U+0000, which MQTT strings must not"
        case .subscriptionRefused(let filters):
            "the MQTT broker refused the subscription to \(filters.map { "\"\($0)\"" }.joined(separator: ", "))"
        case .unencodable(let error):
            "the packet cannot be encoded: \(error)"
        case .packetTooLarge(let size, let limit):
            "a packet of \(size) bytes exceeds the maximum packet size of \(limit) bytes"
        case .queueFull(let limit):
            "more than \(limit) QoS 1/2 publishes are waiting to be sent"
        }
    }
}
