import MQTTBroker
import Testing

/// The lines Mosquitto 2.0.11 refuses to start with are errors here, at
/// their place; the lines it reads oddly are read the same way, with a warning.
@Suite("Reading the ACL file as Mosquitto does", .timeLimit(.minutes(5)))
struct AuthACLParsingTests {
    private func errors(_ text: String) -> [String] {
        do {
            _ = try AccessControlList(parsing: text, path: "acl")
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test(arguments: [
        ("  # indented comment", "acl:1:3: error: expected `user NAME`, `topic [read|write|readwrite|deny] FILTER` or `pattern [read|write|readwrite|deny] FILTER`"),
        ("\ttopic read a", "acl:1:1: error: expected `user NAME`, `topic [read|write|readwrite|deny] FILTER` or `pattern [read|write|readwrite|deny] FILTER`"),
        ("topic\tread\ta", "acl:1:1: error: expected `user NAME`, `topic [read|write|readwrite|deny] FILTER` or `pattern [read|write|readwrite|deny] FILTER`"),
        ("Topic read a", "acl:1:1: error: expected `user NAME`, `topic [read|write|readwrite|deny] FILTER` or `pattern [read|write|readwrite|deny] FILTER`"),
        ("topic", "acl:1:6: error: `topic` needs a topic filter"),
        ("pattern   ", "acl:1:8: error: `pattern` needs a topic filter"),
        ("user", "acl:1:5: error: `user` needs a user name"),
        ("user   ", "acl:1:5: error: `user` needs a user name"),
        ("topic sometimes a/b", "acl:1:7: error: unknown access 'sometimes'; expected read, write, readwrite or deny"),
        ("topic READ a/b", "acl:1:7: error: unknown access 'READ'; expected read, write, readwrite or deny"),
        ("topic read a/#/b", "acl:1:12: error: invalid topic filter 'a/#/b': '#' must be the last level of a filter"),
        ("topic read a+", "acl:1:12: error: invalid topic filter 'a+': '+' and '#' must fill a whole level, as in 'home/+/temperature'"),
        ("topic read foo # comment", "acl:1:12: error: invalid topic filter 'foo # comment': '+' and '#' must fill a whole level, as in 'home/+/temperature'"),
        ("pattern write clients/%c#", "acl:1:15: error: invalid topic filter 'clients/%c#': '+' and '#' must fill a whole level, as in 'home/+/temperature'"),
    ])
    func linesMosquittoRefusesAreErrors(line: String, expected: String) {
        #expect(errors(line + "\n") == [expected])
    }

    @Test func everyErrorIsReportedNotOnlyTheFirst() {
        let text = "topic read ok\nbogus\nuser alice\ntopic nope x\n\ntopic read a/#/b\n"
        #expect(errors(text).map { $0.prefix(while: { $0 != " " }) } == ["acl:2:1:", "acl:4:7:", "acl:6:12:"])
    }

    @Test func blanksAndCommentsAreSkippedAsMosquittoSkipsThem() throws {
        let text = "# comment\n\n   \n\t\ntopic  read   spaced/out   \r\nuser   bob smith  \r\ntopic read a b\n"
        let acl = try AccessControlList(parsing: text, path: "acl")
        let anonymous = ClientIdentity(clientID: "x", username: nil)
        #expect(acl.mayReceive(topic: "spaced/out", client: anonymous))
        #expect(!acl.mayPublish(topic: "spaced/out", client: anonymous))
        // The user name and the filter are the rest of the line, inner spaces and all.
        let bobSmith = ClientIdentity(clientID: "x", username: "bob smith")
        #expect(acl.mayReceive(topic: "a b", client: bobSmith))
        #expect(acl.warnings.isEmpty)
    }

    @Test func aLoneAccessWordIsTheTopicAsInMosquitto() throws {
        let acl = try AccessControlList(parsing: "topic read\ntopic deny\n", path: "acl")
        let anonymous = ClientIdentity(clientID: "x", username: nil)
        #expect(acl.mayPublish(topic: "read", client: anonymous) && acl.mayReceive(topic: "read", client: anonymous))
        #expect(acl.mayPublish(topic: "deny", client: anonymous))
        #expect(!acl.mayPublish(topic: "other", client: anonymous))
        #expect(acl.warnings.map(\.description) == [
            "acl:1:7: warning: 'read' is taken as the topic filter, with read and write access, as Mosquitto does; "
                + "write `topic read FILTER` to give that access",
            "acl:2:7: warning: 'deny' is taken as the topic filter, with read and write access, as Mosquitto does; "
                + "write `topic deny FILTER` to give that access",
        ])
    }

    @Test func patternsWithoutSubstitutionAreWarnedAbout() throws {
        let acl = try AccessControlList(parsing: "pattern read fixed/topic\npattern read %c/ok\n", path: "acl")
        #expect(acl.warnings.map(\.description) == ["acl:1:14: warning: the pattern contains neither %c nor %u: it applies to every client alike"])
        #expect(acl.mayReceive(topic: "fixed/topic", client: ClientIdentity(clientID: "any", username: "one")))
    }

    @Test func columnsCountCharactersNotBytes() {
        #expect(errors("user jürgen\ntopic lesen küche/#\n") == ["acl:2:7: error: unknown access 'lesen'; expected read, write, readwrite or deny"])
        #expect(errors("topic read küche/#/x\n") == ["acl:1:12: error: invalid topic filter 'küche/#/x': '#' must be the last level of a filter"])
    }

    @Test func aMissingFileIsNamed() {
        #expect {
            try AccessControlList.load(path: "/nonexistent/acl")
        } throws: { error in
            "\(error)" == "/nonexistent/acl: error: cannot open the file: No such file or directory"
        }
    }
}
