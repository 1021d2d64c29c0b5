import Foundation
import MQTTBroker
import TestSupport
import Testing

@Suite("The password file: reading, checking, editing, writing", .timeLimit(.minutes(5)))
struct AuthPasswordFileTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func verifiesUsersOfBothSchemes() throws {
        let file = try PasswordFile(
            parsing: "jake:\(PasswordVectors.pbkdf2Salt12)\nold:\(PasswordVectors.sha512Salt12)\n", path: "pw")
        #expect(file.verify(username: "jake", password: bytes("pw12")) == .accepted)
        #expect(file.verify(username: "jake", password: bytes("pw6")) == .wrongPassword)
        #expect(file.verify(username: "old", password: bytes("pw6")) == .accepted)
        #expect(file.verify(username: "old", password: bytes("")) == .wrongPassword)
        #expect(file.verify(username: "nobody", password: bytes("pw12")) == .unknownUser)
        #expect(file.verify(username: "JAKE", password: bytes("pw12")) == .unknownUser)
        #expect(file.usernames == ["jake", "old"])
    }

    @Test func commentsBlankLinesBlanksAndCRLFAreReadAsMosquittoDoes() throws {
        let text = "# users of the house\n\n   \n  jake : \(PasswordVectors.pbkdf2Salt12)  \r\n#ann:nothing\r\nold:\(PasswordVectors.sha512Salt12)"
        let file = try PasswordFile(parsing: text, path: "pw")
        #expect(file.usernames == ["jake", "old"])
        #expect(file.verify(username: "jake", password: bytes("pw12")) == .accepted)
        #expect(file.verify(username: "ann", password: bytes("nothing")) == .unknownUser)
    }

    @Test func everyBadLineIsReportedWithItsPlace() {
        let text = """
            # fine
            jake:\(PasswordVectors.pbkdf2Salt12)
            no colon here
            :\(PasswordVectors.pbkdf2Salt12)
            ann:
            bob:secret
            carl:$7$101$AAECAwQFBgcICQoLDA0ODw==$\(String(repeating: "A", count: 86))==
            jake:\(PasswordVectors.sha512Salt12)
            """
        #expect {
            try PasswordFile(parsing: text, path: "/etc/homerules/passwd")
        } throws: { error in
            let lines = (error as? AuthFileError)?.diagnostics.map(\.description) ?? []
            return lines == [
                "/etc/homerules/passwd:3:1: error: expected USER:HASH",
                "/etc/homerules/passwd:4:1: error: the user name is empty",
                "/etc/homerules/passwd:5:5: error: user 'ann' has no password",
                "/etc/homerules/passwd:6:5: error: user 'bob': the password is not hashed as $7$ (PBKDF2-SHA512) or $6$ (SHA-512); "
                    + "hash a plain-text file with `homerules passwd -U FILE`",
                "/etc/homerules/passwd:7:6: error: user 'carl': the salt is 16 bytes; Mosquitto writes 12 (2.0) or 64 (2.1)",
                "/etc/homerules/passwd:8:1: error: user 'jake' is already defined on line 2",
            ]
        }
    }

    @Test func setAddsOrReplacesInPlaceAndKeepsComments() throws {
        var file = try PasswordFile(parsing: "# house\njake:\(PasswordVectors.pbkdf2Salt12)\n\nold:\(PasswordVectors.sha512Salt12)\n", path: "pw")
        try file.set(username: "jake", password: bytes("1234"))
        try file.set(username: "ann", password: bytes("5678"))
        let lines = file.rendered().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 6)
        #expect(lines[0] == "# house")
        #expect(lines[1].hasPrefix("jake:$7$101$"))
        #expect(lines[2] == "")
        #expect(lines[3] == "old:\(PasswordVectors.sha512Salt12)")
        #expect(lines[4].hasPrefix("ann:$7$101$"))
        #expect(lines[5] == "")

        let reread = try PasswordFile(parsing: file.rendered(), path: "pw")
        #expect(reread.verify(username: "jake", password: bytes("1234")) == .accepted)
        #expect(reread.verify(username: "jake", password: bytes("pw12")) == .wrongPassword)
        #expect(reread.verify(username: "ann", password: bytes("5678")) == .accepted)
        #expect(reread.verify(username: "old", password: bytes("pw6")) == .accepted)
    }

    @Test func removeDeletesOnlyThatUser() throws {
        var file = PasswordFile()
        for name in ["a", "b", "c"] { try file.set(username: name, password: bytes(name)) }
        let removed = file.remove(username: "b")
        let removedAgain = file.remove(username: "b")
        #expect(removed && !removedAgain)
        #expect(file.usernames == ["a", "c"])
        try file.set(username: "c", password: bytes("new"))
        #expect(file.usernames == ["a", "c"])
        #expect(file.verify(username: "c", password: bytes("new")) == .accepted)
        #expect(file.verify(username: "a", password: bytes("a")) == .accepted)
    }

    @Test(arguments: [
        ("", PasswordFile.UsernameError.empty), ("a:b", .containsColon), ("tab\there", .containsControlCharacter),
        (" jake", .blankAtEnd), ("jake ", .blankAtEnd), ("#jake", .startsWithHash),
    ])
    func userNamesThatWouldNotSurviveTheFileAreRefused(name: String, error: PasswordFile.UsernameError) {
        var file = PasswordFile()
        #expect(throws: error) { try file.set(username: name, password: [1]) }
        #expect(file.isEmpty)
    }

    @Test func userNamesLongerThanMQTTAllowsAreRefused() {
        var file = PasswordFile()
        #expect(throws: PasswordFile.UsernameError.tooLong) { try file.set(username: String(repeating: "x", count: 65_536), password: [1]) }
    }

    @Test func userNamesMayHoldSpacesAndAnyLanguage() throws {
        var file = PasswordFile()
        try file.set(username: "küche sensor", password: bytes("pw"))
        let reread = try PasswordFile(parsing: file.rendered(), path: "pw")
        #expect(reread.verify(username: "küche sensor", password: bytes("pw")) == .accepted)
    }

    @Test func writesAtomicallyAndANewFileWithMode0600() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("passwd").path
        var file = PasswordFile()
        try file.set(username: "jake", password: bytes("1234"))
        try file.write(to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try PasswordFile.load(path: path).verify(username: "jake", password: bytes("1234")) == .accepted)

        // Editing an existing file leaves no temporary file, and the file keeps its mode, as mosquitto_passwd leaves it.
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        try file.set(username: "ann", password: bytes("5678"))
        try file.write(to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["passwd"])
        let replaced = try FileManager.default.attributesOfItem(atPath: path)
        #expect((replaced[.posixPermissions] as? NSNumber)?.intValue == 0o640)
        #expect(try PasswordFile.load(path: path).usernames == ["jake", "ann"])
    }

    @Test func writingThroughASymbolicLinkKeepsTheLink() throws {
        let directory = try TemporaryDirectory()
        let target = directory.file("real-passwd").path
        let link = directory.file("passwd").path
        try PasswordFile().write(to: target)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        var file = try PasswordFile.load(path: link)
        try file.set(username: "jake", password: bytes("1234"))
        try file.write(to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try PasswordFile.load(path: target).usernames == ["jake"])
    }

    @Test func aMissingOrUnreadableFileIsNamed() throws {
        #expect {
            try PasswordFile.load(path: "/nonexistent/passwd")
        } throws: { error in
            "\(error)" == "/nonexistent/passwd: error: cannot open the file: No such file or directory"
        }
        let directory = try TemporaryDirectory()
        let path = directory.file("latin1").path
        let latin1Line: [UInt8] = Array("j".utf8) + [0xE4] + Array("ger:x\n".utf8)
        try Data(Array("jake:\(PasswordVectors.pbkdf2Salt12)\n".utf8) + latin1Line).write(to: URL(fileURLWithPath: path))
        #expect {
            try PasswordFile.load(path: path)
        } throws: { error in
            "\(error)" == "\(path):2: error: the line is not valid UTF-8"
        }
    }

    @Test func upgradeHashesPlainPasswordsOnce() throws {
        let text = "# plain\njake:1234\n ann : two words \nold:\(PasswordVectors.sha512Salt12)\ncolon:a:b\n"
        let upgrade = try PasswordFile.upgrading(plainText: text, path: "pw")
        #expect(upgrade.hashedUsers == ["jake", "ann", "colon"])
        #expect(upgrade.alreadyHashed == ["old"])
        let file = try PasswordFile(parsing: upgrade.file.rendered(), path: "pw")
        #expect(file.verify(username: "jake", password: bytes("1234")) == .accepted)
        #expect(file.verify(username: "ann", password: bytes("two words")) == .accepted)
        #expect(file.verify(username: "old", password: bytes("pw6")) == .accepted)
        #expect(file.verify(username: "colon", password: bytes("a:b")) == .accepted)
        #expect(upgrade.file.rendered().hasPrefix("# plain\njake:$7$101$"))

        let again = try PasswordFile.upgrading(plainText: upgrade.file.rendered(), path: "pw")
        #expect(again.hashedUsers.isEmpty)
        #expect(again.file.rendered() == upgrade.file.rendered())
    }
}
