import NIOCore
import NIOSSL
import X509

/// TLS on a broker connection: the handler that puts it in the pipeline, and
/// the client's identity that its certificate gives.
///
/// How a listener uses it:
///
/// ```swift
/// let tls = try listener.tls.map { try $0.makeServerContext() }   // once per listener, and on reload
/// ServerBootstrap(...).childChannelInitializer { channel in
///     channel.eventLoop.makeCompletedFuture {
///         let pipeline = channel.pipeline.syncOperations
///         if let tls { try BrokerTLS.addServerHandlers(to: pipeline, context: tls) }   // first: nearest the socket
///         try pipeline.addHandler(ConnectionHandler(...))
///     }
/// }
/// ```
///
/// The handshake completes before any MQTT byte is decrypted, so when the
/// connection handler reads CONNECT the client's certificate is known:
///
/// ```swift
/// // in ConnectionHandler, on CONNECT, when use_identity_as_username is set:
/// let identity = BrokerTLS.clientIdentity(in: context.pipeline.syncOperations)
/// // nil: no certificate or no common name; Mosquitto refuses with "bad user name or password"
/// ```
public enum BrokerTLS {
    /// Adds the TLS server handler to a new connection's pipeline. Call it
    /// before adding any other handler, so that everything after it sees
    /// plain MQTT, and bytes are counted as MQTT, not TLS, bytes.
    public static func addServerHandlers(to pipeline: ChannelPipeline.SynchronousOperations, context: NIOSSLContext) throws {
        try pipeline.addHandler(NIOSSLServerHandler(context: context))
    }

    /// The common name of the client's verified certificate, as Mosquitto's
    /// `use_identity_as_username` takes it: the first CN of the subject.
    /// Nil before the handshake, without TLS, without a client certificate
    /// (a listener without `require_certificate` asks for none), or when the
    /// subject has no usable common name. Call it on the channel's event loop.
    public static func clientIdentity(in pipeline: ChannelPipeline.SynchronousOperations) -> String? {
        guard let certificate = try? pipeline.handler(type: NIOSSLServerHandler.self).peerCertificate else { return nil }
        return commonName(of: certificate)
    }

    /// The first common name of the certificate's subject, if it is a
    /// string without NUL (which Mosquitto also refuses: a CN of
    /// "admin\0.evil" must not pass for "admin").
    static func commonName(of certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der),
            let name = parsed.subject.commonName, !name.isEmpty, !name.utf8.contains(0)
        else { return nil }
        return name
    }
}
