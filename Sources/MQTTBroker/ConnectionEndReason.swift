import MQTT

extension ConnectionHandler {
    /// Why a connection ends; all but a DISCONNECT and a broker shutdown
    /// publish the will.
    enum EndReason: CustomStringConvertible {
        case disconnected
        /// MQTT 5: DISCONNECT with reason 0x04, which keeps the will.
        case disconnectedWithWill
        case connectionLost
        /// The client broke the protocol; an MQTT 5 client is sent `code`.
        case protocolError(String, code: MQTTReasonCode = .protocolError)
        /// CONNECT turned down (credentials, client id); no session was made.
        case refused(String)
        case keepAliveExpired
        case takenOver
        case shutdown

        var publishesWill: Bool {
            switch self {
            case .disconnected, .shutdown, .refused: false
            case .disconnectedWithWill, .connectionLost, .protocolError, .keepAliveExpired, .takenOver: true
            }
        }

        /// The reason code of the DISCONNECT an MQTT 5 client is sent, when
        /// the broker is the one ending the connection.
        var disconnectReasonCode: MQTTReasonCode? {
            switch self {
            case .disconnected, .disconnectedWithWill, .connectionLost, .refused: nil
            case .protocolError(_, let code): code
            case .keepAliveExpired: .keepAliveTimeout
            case .takenOver: .sessionTakenOver
            case .shutdown: .serverShuttingDown
            }
        }

        var description: String {
            switch self {
            case .disconnected: "disconnected"
            case .disconnectedWithWill: "disconnected, asking for its will"
            case .connectionLost: "connection lost"
            case .protocolError(let reason, _): "protocol error: \(reason)"
            case .refused(let reason): "CONNECT refused: \(reason)"
            case .keepAliveExpired: "keepalive expired"
            case .takenOver: "taken over by a new connection with the same client id"
            case .shutdown: "broker shutting down"
            }
        }
    }
}
