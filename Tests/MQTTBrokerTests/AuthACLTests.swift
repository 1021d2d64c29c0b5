import MQTTBroker
import Testing

@Suite("The ACL file: who may publish, receive and subscribe", .timeLimit(.minutes(5)))
struct AuthACLTests {
    private let acl: AccessControlList
    private let anonymous = ClientIdentity(clientID: "anon1", username: nil)
    private let alice = ClientIdentity(clientID: "alicec", username: "alice")
    private let bob = ClientIdentity(clientID: "bobc", username: "bob")

    init() throws {
        acl = try AccessControlList(parsing: ACLFixture.file, path: "acl")
    }

    @Test func theFixtureGivesWhatMosquittoGave() {
        for (topic, accesses) in ACLFixture.expected {
            for (prober, access) in zip(ACLFixture.probers, accesses) {
                let client = prober.identity
                #expect(acl.mayPublish(topic: topic, client: client) == (access.first == "w"), "\(client) publishing to \(topic)")
                #expect(acl.mayReceive(topic: topic, client: client) == (access.last == "r"), "\(client) receiving \(topic)")
            }
        }
    }

    @Test func accessWordsGrantWhatTheySay() throws {
        let acl = try AccessControlList(
            parsing: "topic read r\ntopic write w\ntopic readwrite rw\ntopic both\ntopic deny d\n", path: "acl")
        let expected: [String: (publish: Bool, receive: Bool)] = [
            "r": (false, true), "w": (true, false), "rw": (true, true), "both": (true, true), "d": (false, false), "x": (false, false),
        ]
        for (topic, access) in expected {
            #expect(acl.mayPublish(topic: topic, client: anonymous) == access.publish, "\(topic)")
            #expect(acl.mayReceive(topic: topic, client: anonymous) == access.receive, "\(topic)")
        }
    }

    @Test func rulesBeforeTheFirstUserAreForAnonymousClientsOnly() {
        #expect(acl.mayReceive(topic: "public/news", client: anonymous))
        #expect(!acl.mayReceive(topic: "public/news", client: alice))
        // A user name without rules of its own gets the patterns only, not the anonymous rules.
        let stranger = ClientIdentity(clientID: "s", username: "stranger")
        #expect(!acl.mayReceive(topic: "public/news", client: stranger))
        #expect(acl.mayPublish(topic: "clients/s/x", client: stranger))
    }

    @Test func severalBlocksOfOneUserAddUp() throws {
        let acl = try AccessControlList(parsing: "user a\ntopic read one\nuser b\ntopic read two\nuser a\ntopic read three\n", path: "acl")
        let a = ClientIdentity(clientID: "x", username: "a")
        #expect(acl.mayReceive(topic: "one", client: a) && acl.mayReceive(topic: "three", client: a))
        #expect(!acl.mayReceive(topic: "two", client: a))
    }

    @Test func denyBeatsGrantsOfItsOwnKindWhereverItStands() throws {
        #expect(!acl.mayReceive(topic: "home/private/x", client: alice))
        #expect(acl.mayReceive(topic: "home/privately", client: alice))
        // A pattern deny does not take back what the user's own rules grant...
        #expect(acl.mayPublish(topic: "home/alice/locked", client: alice))
        // ... but does beat the patterns' grants.
        let acl = try AccessControlList(parsing: "pattern deny %c/secret\npattern readwrite %c/#\n", path: "acl")
        let device = ClientIdentity(clientID: "dev", username: nil)
        #expect(acl.mayPublish(topic: "dev/open", client: device))
        #expect(!acl.mayPublish(topic: "dev/secret", client: device))
        #expect(!acl.mayReceive(topic: "dev/secret", client: device))
    }

    @Test func patternsSubstituteClientIDAndUserName() {
        #expect(acl.mayPublish(topic: "clients/alicec/state", client: alice))
        #expect(!acl.mayPublish(topic: "clients/bobc/state", client: alice))
        #expect(acl.mayReceive(topic: "users/alice/inbox", client: alice))
        #expect(!acl.mayReceive(topic: "users/bob/inbox", client: alice))
        #expect(acl.mayPublish(topic: "users/alice/outbox", client: alice))
        #expect(!acl.mayReceive(topic: "users/alice/outbox", client: alice))
    }

    @Test func userNamePatternsNeverApplyToAnonymousClients() throws {
        let acl = try AccessControlList(parsing: "pattern readwrite %u/#\npattern readwrite %c/#\n", path: "acl")
        let anonymous = ClientIdentity(clientID: "dev", username: nil)
        #expect(!acl.mayPublish(topic: "/x", client: anonymous))
        #expect(!acl.mayPublish(topic: "%u/x", client: anonymous))
        #expect(acl.mayPublish(topic: "dev/x", client: anonymous))
        // An empty user name is a user name.
        let empty = ClientIdentity(clientID: "dev", username: "")
        #expect(acl.mayPublish(topic: "/x", client: empty))
    }

    @Test func wildcardsInNamesGetNothingFromPatterns() throws {
        let acl = try AccessControlList(parsing: "topic read own\nuser u\ntopic read own\npattern readwrite %c/#\npattern read fixed\n", path: "acl")
        for client in [ClientIdentity(clientID: "+", username: nil), ClientIdentity(clientID: "a#", username: nil), ClientIdentity(clientID: "ok", username: "u+")] {
            #expect(!acl.mayPublish(topic: "\(client.clientID)/x", client: client))
            #expect(!acl.mayReceive(topic: "fixed", client: client), "even patterns without %c or %u")
        }
        #expect(acl.mayReceive(topic: "own", client: ClientIdentity(clientID: "a#", username: nil)), "own rules still apply")
        #expect(acl.mayReceive(topic: "fixed", client: ClientIdentity(clientID: "ok", username: "u")))
    }

    @Test func aSlashInANameSpansLevelsAsInMosquitto() {
        let slashed = ClientIdentity(clientID: "d/y", username: "d/x")
        #expect(acl.mayPublish(topic: "clients/d/y/z", client: slashed))
        #expect(acl.mayReceive(topic: "users/d/x/inbox", client: slashed))
        #expect(!acl.mayPublish(topic: "clients/d/q", client: slashed))
    }

    @Test func wildcardsInRulesDoNotMatchDollarTopics() {
        let hash = ClientIdentity(clientID: "h", username: "hash")
        #expect(acl.mayPublish(topic: "anything/at/all", client: hash))
        #expect(!acl.mayPublish(topic: "$foo/bar", client: hash))
        #expect(!acl.mayReceive(topic: "$SYS/broker/uptime", client: hash))
        #expect(acl.mayReceive(topic: "$foo/bar", client: alice))
    }

    @Test func topicRulesTakePercentSignsLiterally() throws {
        let acl = try AccessControlList(parsing: "topic readwrite %c/x\n", path: "acl")
        #expect(acl.mayPublish(topic: "%c/x", client: ClientIdentity(clientID: "dev", username: nil)))
        #expect(!acl.mayPublish(topic: "dev/x", client: ClientIdentity(clientID: "dev", username: nil)))
        #expect(acl.warnings.map(\.description) == ["acl:1:17: warning: %c and %u are replaced in `pattern` lines only; here they are literal"])
    }

    @Test func anEmptyFileDeniesEverything() throws {
        let acl = try AccessControlList(parsing: "# nothing yet\n\n", path: "acl")
        #expect(!acl.mayPublish(topic: "a", client: anonymous))
        #expect(!acl.mayReceive(topic: "a", client: alice))
        #expect(!acl.maySubscribe(filter: "#", client: alice))
    }

    @Test func subscriptionsAreRefusedOnlyWhenNothingCouldBeDelivered() {
        let granted = ["home/#", "#", "+/+/temp", "sensors/#", "sensors/+/temp", "$foo/#", "clients/alicec/#", "home/alice/locked", "$share/g/home/#", "+/alicec/+"]
        let refused = ["home/private/#", "home/private/a/b", "nothing/here", "cmd/x", "users/alice/outbox", "$SYS/#", "clients/bobc/#", "$share/g/nothing", "nothing/#"]
        for filter in granted { #expect(acl.maySubscribe(filter: filter, client: alice), "\(filter)") }
        for filter in refused { #expect(!acl.maySubscribe(filter: filter, client: alice), "\(filter)") }
        #expect(acl.maySubscribe(filter: "home/bob/locked", client: bob))
        #expect(acl.maySubscribe(filter: "public/#", client: anonymous))
        #expect(!acl.maySubscribe(filter: "public/secret", client: anonymous))
        #expect(!acl.maySubscribe(filter: "users/+/inbox", client: anonymous))
        let wildcardName = ClientIdentity(clientID: "cpx", username: "c+x")
        #expect(!acl.maySubscribe(filter: "clients/cpx/#", client: wildcardName))
        #expect(acl.maySubscribe(filter: "probe/#", client: wildcardName))
    }

    @Test func permissionsCompiledOnceGiveTheSameAnswers() {
        let permissions = acl.permissions(for: alice)
        for (topic, _) in ACLFixture.expected {
            #expect(permissions.mayPublish(topic: topic) == acl.mayPublish(topic: topic, client: alice))
            #expect(permissions.mayReceive(topic: topic) == acl.mayReceive(topic: topic, client: alice))
        }
    }
}
