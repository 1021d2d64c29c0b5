import Foundation

/// A real Mosquitto with a TLS listener beside its plain one, both on
/// 127.0.0.1, configured with mosquitto.conf's own option names: the proof
/// that certificate files work in Mosquitto unchanged.
public struct MosquittoTLSBroker: Sendable {
    public let broker: MosquittoBroker
    /// The TLS listener's port; `broker.port` is the plain one.
    public let tlsPort: Int

    /// Starts mosquitto and waits until both listeners accept connections.
    public static func start(
        cafile: String, certfile: String, keyfile: String,
        requireCertificate: Bool = false, useIdentityAsUsername: Bool = false
    ) async throws -> MosquittoTLSBroker {
        let tlsPort = try freeLoopbackPort()
        // Mosquitto started by root becomes user `mosquitto` before it reads
        // the key files, which are root's and mode 0600 here; a test run by
        // root keeps it root. Without per_listener_settings, the lines after
        // `listener` belong to that listener.
        let broker = try await MosquittoBroker.start(extraConfig: """
            \(geteuid() == 0 ? "user root" : "")
            listener \(tlsPort) 127.0.0.1
            cafile \(cafile)
            certfile \(certfile)
            keyfile \(keyfile)
            require_certificate \(requireCertificate)
            use_identity_as_username \(useIdentityAsUsername)
            """)
        let deadline = Date().addingTimeInterval(10)
        while !isListening(port: tlsPort) {
            guard Date() < deadline, broker.process.process.isRunning else {
                throw PeerMissing(name: "mosquitto with TLS (did not start: \(broker.process.output))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return MosquittoTLSBroker(broker: broker, tlsPort: tlsPort)
    }

    public func stop() { broker.stop() }
}
