import Foundation

/// What `homerules certs DIR` does: the home's authority, the broker's
/// certificate and the clients' certificates in one directory, made when
/// missing and kept when present, so that running it again with another
/// `--client` adds that client under the same authority.
public struct HomeCertificates: Sendable {
    public var directory: String
    /// The names the server certificate is for; nil means this machine's
    /// (``ServerNames/thisMachine()``).
    public var serverNames: ServerNames?
    /// Clients that need a certificate of their own.
    public var clientNames: [String]
    /// Issue the server's and the named clients' certificates again even
    /// when they exist (new keys, same authority).
    public var renew: Bool

    public init(directory: String, serverNames: ServerNames? = nil, clientNames: [String] = [], renew: Bool = false) {
        self.directory = directory
        self.serverNames = serverNames
        self.clientNames = clientNames
        self.renew = renew
    }

    /// What was found, made or kept.
    public struct Outcome: Sendable {
        public var authority: HomeCertificateAuthority
        public var authorityIsNew: Bool
        public var server: IssuedCertificate
        public var serverIsNew: Bool
        public var clients: [(certificate: IssuedCertificate, isNew: Bool)]
    }

    /// Makes what is missing (and, with ``renew``, what is asked for again).
    /// Checks everything before writing anything, so that an error leaves
    /// the directory as it was.
    public func run(now: Date = Date()) throws(HomeCertificateError) -> Outcome {
        var clientNames: [String] = []
        for name in self.clientNames where !clientNames.contains(name) {
            try HomeCertificateAuthority.validateClientName(name)
            clientNames.append(name)
        }
        let existing = try HomeCertificateAuthority.load(from: directory)
        let keptServer = try existing.flatMap { authority throws(HomeCertificateError) in
            try renew ? nil : authority.existingCertificate(file: "server")
        }
        if let keptServer, serverNames != nil { throw .serverCertificateExists(path: keptServer.certificatePath) }
        let keptClients = try clientNames.map { name throws(HomeCertificateError) in
            try existing.flatMap { authority throws(HomeCertificateError) in
                try renew ? nil : authority.existingCertificate(file: name)
            }
        }
        if existing == nil && !renew {
            // Certificates left by an authority that is gone would not verify under a new one.
            for file in ["server"] + clientNames {
                let path = HomeCertificateAuthority.path(directory, file + ".crt")
                guard !CertificateFiles.exists(path) else {
                    throw .notIssuedByAuthority(path: path, authority: HomeCertificateAuthority.path(directory, "ca.crt"))
                }
            }
        }

        let names = serverNames ?? .thisMachine()
        let authority: HomeCertificateAuthority
        if let existing {
            authority = existing
        } else {
            authority = try HomeCertificateAuthority.create(in: directory, hostName: names.primaryHostName, now: now)
        }
        let server: IssuedCertificate
        if let keptServer {
            server = keptServer
        } else {
            server = try authority.issueServerCertificate(for: names, now: now)
        }
        var clients: [(certificate: IssuedCertificate, isNew: Bool)] = []
        for (name, kept) in zip(clientNames, keptClients) {
            if let kept {
                clients.append((kept, false))
            } else {
                clients.append((try authority.issueClientCertificate(name: name, now: now), true))
            }
        }
        return Outcome(
            authority: authority, authorityIsNew: existing == nil, server: server, serverIsNew: keptServer == nil, clients: clients)
    }
}
