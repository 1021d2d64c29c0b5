import MQTT
import NIOCore

/// Why the broker refuses a CONNECT's credentials.
///
/// Mosquitto 2.0.11 answers all of them alike, so that a client cannot tell
/// a wrong password from an unknown user (measured with its password file,
/// see docs/security.md): CONNACK return code 5, "not authorised", in MQTT
/// 3.1 and 3.1.1, and reason code 0x87, "not authorized", in MQTT 5 (never
/// 4 or 0x86, "bad user name or password"). A password without a user name
/// is a protocol error in 3.1 and 3.1.1 (the codec closes the connection
/// without a CONNACK, as Mosquitto does).
public enum AuthenticationFailure: Sendable, Hashable, CustomStringConvertible {
    /// No user name, and the listener does not allow anonymous clients.
    case anonymousNotAllowed
    /// A user name that the password file does not have.
    case unknownUser
    /// A user of the password file, with a password that does not match.
    case wrongPassword
    /// A user of the password file that sent no password.
    case missingPassword
    /// A user name, anonymous clients not allowed, and no password file to
    /// check the name against.
    case noPasswordFile

    /// The CONNACK return code for MQTT 3.1 and 3.1.1.
    public var connectReturnCode: ConnectReturnCode { .notAuthorized }

    /// For the log; never sent to the client.
    public var description: String {
        switch self {
        case .anonymousNotAllowed: "anonymous clients are not allowed"
        case .unknownUser: "unknown user"
        case .wrongPassword: "wrong password"
        case .missingPassword: "no password given"
        case .noPasswordFile: "a user name was given, but there is no password file and anonymous clients are not allowed"
        }
    }
}

/// The CONNECT check of one listener: `allow_anonymous` and `password_file`,
/// decided as Mosquitto 2.0 decides.
///
/// | user name | password file | allow_anonymous | result |
/// | --- | --- | --- | --- |
/// | none | any | true | accepted |
/// | none | any | false | `anonymousNotAllowed` |
/// | given | has the user | any | accepted if the password matches |
/// | given | lacks the user | any | `unknownUser` |
/// | given | none | true | accepted, whatever the password |
/// | given | none | false | `noPasswordFile` |
public struct ConnectAuthenticator: Sendable {
    /// `allow_anonymous`, already resolved (Mosquitto 2's default depends on
    /// the listener; `BrokerConfiguration.Security` leaves it nil).
    public var allowAnonymous: Bool
    public var passwordFile: PasswordFile?

    public init(allowAnonymous: Bool, passwordFile: PasswordFile?) {
        self.allowAnonymous = allowAnonymous
        self.passwordFile = passwordFile
    }

    /// nil when the client may connect.
    public func failure(username: String?, password: ByteBuffer?) -> AuthenticationFailure? {
        guard let username else { return allowAnonymous ? nil : .anonymousNotAllowed }
        guard let passwordFile else { return allowAnonymous ? nil : .noPasswordFile }
        guard let password else {
            return passwordFile.hash(for: username) == nil ? .unknownUser : .missingPassword
        }
        switch passwordFile.verify(username: username, password: password.readableBytesView) {
        case .accepted: return nil
        case .unknownUser: return .unknownUser
        case .wrongPassword: return .wrongPassword
        }
    }
}
