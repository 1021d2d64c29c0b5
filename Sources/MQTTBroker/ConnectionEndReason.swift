extension ConnectionHandler {
    /// Why a connection ends; all but a DISCONNECT and a broker shutdown
    /// publish the will.
    enum EndReason: CustomStringConvertible {
        case disconnected
        case connectionLost
        case protocolError(String)
        /// CONNECT turned down (credentials, client id); no session was made.
        case refused(String)
        case keepAliveExpired
        case takenOver
        case shutdown

        var publishesWill: Bool {
            switch self {
            case .disconnected, .shutdown, .refused: false
            case .connectionLost, .protocolError, .keepAliveExpired, .takenOver: true
            }
        }

        var description: String {
            switch self {
            case .disconnected: "disconnected"
            case .connectionLost: "connection lost"
            case .protocolError(let reason): "protocol error: \(reason)"
            case .refused(let reason): "CONNECT refused: \(reason)"
            case .keepAliveExpired: "keepalive expired"
            case .takenOver: "taken over by a new connection with the same client id"
            case .shutdown: "broker shutting down"
            }
        }
    }
}
