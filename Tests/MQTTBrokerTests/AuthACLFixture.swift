import MQTTBroker

/// One ACL file with every rule form, the clients that probe it, and what
/// Mosquitto 2.0.11 lets each of them do: recorded from the real broker
/// (AuthACLParityTests checks the recording again on every run).
enum ACLFixture {
    static let file = """
        # Rules before the first user line: anonymous clients.
        topic read public/#
        topic deny public/secret
        topic write anon/in
        topic readwrite probe/anonymous

        user alice
        topic readwrite home/#
        # a deny placed after the grant still wins over it
        topic deny home/private/#
        topic write cmd/+
        topic read sensors/+/temp
        topic read $foo/#
        topic readwrite probe/alice

        user bob
        topic read home/#
        topic readwrite probe/bob

        user c+x
        topic readwrite probe/cplus

        user d/x
        topic readwrite probe/dx

        user hash
        topic readwrite #

        user root
        topic readwrite #
        topic readwrite $foo/#

        # Patterns: every client, anonymous ones too (but %u only with a user name).
        pattern readwrite clients/%c/#
        pattern read users/%u/inbox
        pattern write users/%u/outbox
        pattern deny home/%u/locked
        """

    struct Prober: Sendable {
        var identity: ClientIdentity
        var password: String?
        /// A topic the prober may write and read, to know that earlier probes are through.
        var probeTopic: String
    }

    static let probers: [Prober] = [
        Prober(identity: ClientIdentity(clientID: "anon1", username: nil), password: nil, probeTopic: "probe/anonymous"),
        Prober(identity: ClientIdentity(clientID: "alicec", username: "alice"), password: "a", probeTopic: "probe/alice"),
        Prober(identity: ClientIdentity(clientID: "bobc", username: "bob"), password: "b", probeTopic: "probe/bob"),
        // Wildcards in a name: patterns give it nothing.
        Prober(identity: ClientIdentity(clientID: "cpx", username: "c+x"), password: "c", probeTopic: "probe/cplus"),
        // A slash in a name: Mosquitto 2.0 substitutes it, spanning levels.
        Prober(identity: ClientIdentity(clientID: "d/y", username: "d/x"), password: "d", probeTopic: "probe/dx"),
        Prober(identity: ClientIdentity(clientID: "e#", username: nil), password: nil, probeTopic: "probe/anonymous"),
        Prober(identity: ClientIdentity(clientID: "hashc", username: "hash"), password: "h", probeTopic: "probe/hash-is-readwrite-all"),
    ]

    static let root = Prober(identity: ClientIdentity(clientID: "rootc", username: "root"), password: "r", probeTopic: "probe/root")

    /// Per topic, per prober (in `probers` order): `w` may publish, `r` may
    /// receive, `-` neither, as Mosquitto 2.0.11 decided.
    static let expected: [(topic: String, access: [String])] = [
        ("public/news", ["-r", "--", "--", "--", "--", "-r", "wr"]),
        ("public/secret", ["--", "--", "--", "--", "--", "--", "wr"]),
        ("anon/in", ["w-", "--", "--", "--", "--", "w-", "wr"]),
        ("home", ["--", "wr", "-r", "--", "--", "--", "wr"]),
        ("home/a", ["--", "wr", "-r", "--", "--", "--", "wr"]),
        ("home/private/x", ["--", "--", "-r", "--", "--", "--", "wr"]),
        ("home/alice/locked", ["--", "wr", "-r", "--", "--", "--", "wr"]),
        ("home/bob/locked", ["--", "wr", "-r", "--", "--", "--", "wr"]),
        ("home/hash/locked", ["--", "wr", "-r", "--", "--", "--", "wr"]),
        ("cmd/x", ["--", "w-", "--", "--", "--", "--", "wr"]),
        ("cmd/x/y", ["--", "--", "--", "--", "--", "--", "wr"]),
        ("sensors/k/temp", ["--", "-r", "--", "--", "--", "--", "wr"]),
        ("clients/anon1/x", ["wr", "--", "--", "--", "--", "--", "wr"]),
        ("clients/alicec/x", ["--", "wr", "--", "--", "--", "--", "wr"]),
        ("clients/cpx/x", ["--", "--", "--", "--", "--", "--", "wr"]),
        ("clients/d/y/z", ["--", "--", "--", "--", "wr", "--", "wr"]),
        ("clients/d/q", ["--", "--", "--", "--", "--", "--", "wr"]),
        ("users/alice/inbox", ["--", "-r", "--", "--", "--", "--", "wr"]),
        ("users/alice/outbox", ["--", "w-", "--", "--", "--", "--", "wr"]),
        ("users/bob/inbox", ["--", "--", "-r", "--", "--", "--", "wr"]),
        ("users/d/x/inbox", ["--", "--", "--", "--", "-r", "--", "wr"]),
        ("other", ["--", "--", "--", "--", "--", "--", "wr"]),
        ("$foo/bar", ["--", "-r", "--", "--", "--", "--", "--"]),
    ]
}
