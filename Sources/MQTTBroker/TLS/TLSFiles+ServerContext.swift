import NIOSSL

extension BrokerConfiguration.TLSFiles {
    /// Reads the listener's files and makes the TLS context that all its
    /// connections share. Call it at start-up and again on reload: a new
    /// context applies to the connections accepted after it.
    ///
    /// As Mosquitto does:
    /// - TLS 1.2 is the oldest version accepted.
    /// - With `require_certificate`, a client must present a certificate
    ///   signed by the authority in `cafile`, or the handshake fails.
    /// - Without it, clients are not asked for a certificate at all
    ///   (Mosquitto's `SSL_VERIFY_NONE`), so no identity is learnt from one;
    ///   `cafile` is still read, so that a broken one is reported now rather
    ///   than when `require_certificate` is turned on.
    ///
    /// - Throws: ``TLSSetupError`` naming the option and file that cannot be
    ///   used (missing, unreadable, not PEM, a key that does not match the
    ///   certificate), or the combination of options that cannot work.
    public func makeServerContext() throws(TLSSetupError) -> NIOSSLContext {
        if requireCertificate && caFile == nil { throw .requireCertificateWithoutCAFile }
        if useIdentityAsUsername && !requireCertificate { throw .identityWithoutRequiredCertificate }

        let chain = try PEMFile(option: "certfile", path: certFile).certificates()
        let key = try PEMFile(option: "keyfile", path: keyFile).privateKey()
        let authorities = try caFile.map { path throws(TLSSetupError) in try PEMFile(option: "cafile", path: path).certificates() }

        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        if let authorities { configuration.trustRoots = .certificates(authorities) }
        // Hostnames are for clients to check; a server checks the chain only.
        configuration.certificateVerification = requireCertificate ? .noHostnameVerification : .none

        do {
            return try NIOSSLContext(configuration: configuration)
        } catch NIOSSLError.failedToLoadPrivateKey {
            // Both parsed above: BoringSSL refuses a key only when it is not the certificate's.
            throw .keyDoesNotMatchCertificate(keyFile: keyFile, certFile: certFile)
        } catch {
            throw .unusableFile(option: "certfile", path: certFile, problem: .invalidCertificate)
        }
    }
}
