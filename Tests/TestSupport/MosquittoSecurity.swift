import Foundation

extension MosquittoBroker {
    /// A Mosquitto with the given security settings; the files must outlive it.
    public static func start(
        allowAnonymous: Bool, passwordFile: String? = nil, aclFile: String? = nil
    ) async throws -> MosquittoBroker {
        var config = "allow_anonymous \(allowAnonymous)\n"
        if let passwordFile {
            handOverToMosquitto(passwordFile)
            config += "password_file \(passwordFile)\n"
        }
        if let aclFile { config += "acl_file \(aclFile)\n" }
        return try await start(extraConfig: config)
    }

    /// Mosquitto started as root reads its files as the user `mosquitto`:
    /// a password file with mode 0600 must belong to that user, as
    /// docs/security.md tells people to do.
    public static func handOverToMosquitto(_ path: String) {
        guard geteuid() == 0 else { return }
        if let user = getpwnam("mosquitto") {
            chown(path, user.pointee.pw_uid, user.pointee.pw_gid)
        } else {
            chmod(path, 0o644)  // it falls back to `nobody`
        }
    }
}
