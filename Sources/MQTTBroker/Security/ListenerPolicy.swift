import MQTT
import NIOCore
import NIOSSL

/// One listener's security, loaded from its files: who may connect, and
/// (with an ACL) what they may publish, subscribe to and receive.
///
/// Immutable: a reload builds a new one and the broker swaps it in, so a
/// broken file never leaves a listener half configured.
struct ListenerPolicy: Sendable {
    let listener: BrokerConfiguration.Listener
    /// `allow_anonymous` (after Mosquitto 2's default when the
    /// configuration does not say) and `password_file`.
    let authenticator: ConnectAuthenticator
    let acl: AccessControlList?
    let tlsContext: NIOSSLContext?

    /// Reads the listener's password file, ACL file and certificates.
    /// Errors name the file (and line) that is wrong.
    static func load(_ listener: BrokerConfiguration.Listener) throws -> ListenerPolicy {
        let security = listener.security
        return ListenerPolicy(
            listener: listener,
            authenticator: ConnectAuthenticator(
                allowAnonymous: security.allowAnonymous ?? (listener.isLoopback && security.passwordFile == nil),
                passwordFile: try security.passwordFile.map { try PasswordFile.load(path: $0) }),
            acl: try security.aclFile.map { try AccessControlList.load(path: $0) },
            tlsContext: try listener.tls.map { try $0.makeServerContext() })
    }

    /// The outcome of a CONNECT's credentials.
    enum Admission: Equatable {
        /// In, acting as this user name (nil for anonymous).
        case admitted(username: String?)
        /// Refused with this CONNACK code, for this reason (logged, never sent).
        case refused(ConnectReturnCode, reason: String)
    }

    /// Decides a CONNECT. Mosquitto answers every refusal of this kind
    /// with 5, "not authorized".
    /// The certificate identity is asked for only where it is the credential.
    func authenticate(_ connect: ConnectPacket, certificateIdentity: () -> String?) -> Admission {
        if let tls = listener.tls, tls.useIdentityAsUsername {
            // The certificate is the credential; a password is not asked for.
            guard let identity = certificateIdentity() else {
                return .refused(.notAuthorized, reason: "no client certificate with a common name")
            }
            return .admitted(username: identity)
        }
        if let failure = authenticator.failure(username: connect.username, password: connect.password) {
            return .refused(failure.connectReturnCode, reason: failure.description)
        }
        return .admitted(username: connect.username)
    }

    /// The ACL rules of one client, compiled; nil when the listener has no ACL.
    func permissions(for identity: ClientIdentity) -> ClientPermissions? {
        acl?.permissions(for: identity)
    }

    /// What to tell the user when the listener's files are (re)loaded: the
    /// start-up notice, and the ACL lines Mosquitto reads oddly.
    var notices: [String] {
        [startupNotice].compactMap { $0 } + (acl?.warnings.map(\.description) ?? [])
    }

    /// What start-up should tell the user about this listener, if anything.
    var startupNotice: String? {
        let tlsIdentity = listener.tls?.useIdentityAsUsername == true
        if !authenticator.allowAnonymous && authenticator.passwordFile == nil && !tlsIdentity {
            return "listener \(listener) refuses anonymous clients and has no password_file: no client can connect"
        }
        if !authenticator.allowAnonymous && listener.security.allowAnonymous == nil && !listener.isLoopback {
            return "listener \(listener) refuses anonymous clients (as Mosquitto 2 does off loopback); set allow_anonymous: true to allow them"
        }
        return nil
    }
}
