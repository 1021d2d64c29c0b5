@testable import MQTTBroker
import Testing

/// Known vectors: made with Python's hashlib (pbkdf2_hmac("sha512", ...) and
/// sha512(password + salt)), salts 00 01 02 ... of the given length.
enum PasswordVectors {
    static let pbkdf2Salt12 =
        "$7$101$AAECAwQFBgcICQoL$oN2ahAOckrkVNEFlMzdLikldUkXh9AKrsK5G4mSdvTzZc9Sl1rcTF1W2jq8qndNmyvy/W5IEC25xZlNOGgf84g=="  // pw12
    static let pbkdf2Salt64 =
        "$7$101$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==$lb/mICftJdsDy2EKyMErL4ty+edkymkCke63Wq97yBkUnMyzweh+kFChS4QBvte2ExIz6b8kcEz5Aa6N3NJ0QQ=="  // pw64
    static let pbkdf2Iterations1000 =
        "$7$1000$AAECAwQFBgcICQoL$zUjt8ekYCTjj2KWrsYGwW1hI1Blr+8FcOhAvHqxp+7iY8xRf0ddyZ2WvLuvYE2sXGWk4dhmjkFwN4Dc2KIeqPg=="  // pwi
    static let sha512Salt12 =
        "$6$AAECAwQFBgcICQoL$gM5YZBMgrtjJTuQpCkLt2IPDGvTwezesI8jnKiSwAFXV4oMFiW5VQ4WxPwcpGu0Uu9YgrdckL6KfXnlPvVF3rA=="  // pw6
    static let sha512Salt64 =
        "$6$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==$etYavmWgGKvy55fy+Jw1msBUYWT6WYGhDYnY3NiYvVUIbsJhgtVUPxtFbyQ2ZRIM9Wh5FBE3hUeWjyeRgSUy1Q=="  // pw6
}

@Suite("Password hashes in Mosquitto's encoding", .timeLimit(.minutes(5)))
struct AuthPasswordHashTests {
    @Test(arguments: [
        (PasswordVectors.pbkdf2Salt12, "pw12"), (PasswordVectors.pbkdf2Salt64, "pw64"),
        (PasswordVectors.pbkdf2Iterations1000, "pwi"), (PasswordVectors.sha512Salt12, "pw6"), (PasswordVectors.sha512Salt64, "pw6"),
    ])
    func knownVectorsAcceptTheirPasswordOnly(encoded: String, password: String) throws {
        let hash = try PasswordHash(encoded: encoded)
        #expect(hash.matches(password: Array(password.utf8)))
        #expect(!hash.matches(password: Array((password + "x").utf8)))
        #expect(!hash.matches(password: Array(password.dropLast().utf8)))
        #expect(!hash.matches(password: [UInt8]()))
        #expect(hash.encoded == encoded)
    }

    @Test func readsSchemeSaltAndIterations() throws {
        let pbkdf2 = try PasswordHash(encoded: PasswordVectors.pbkdf2Iterations1000)
        #expect(pbkdf2.scheme == .pbkdf2SHA512(iterations: 1000))
        #expect(pbkdf2.salt == Array(0..<12))
        #expect(pbkdf2.hash.count == 64)
        let sha = try PasswordHash(encoded: PasswordVectors.sha512Salt64)
        #expect(sha.scheme == .sha512)
        #expect(sha.salt == Array(0..<64))
    }

    @Test func newHashesAreWhatMosquittoPasswd20Writes() throws {
        let hash = PasswordHash(password: Array("1234".utf8))
        #expect(hash.scheme == .pbkdf2SHA512(iterations: 101))
        #expect(hash.salt.count == 12)
        #expect(hash.encoded.hasPrefix("$7$101$"))
        #expect(hash.encoded.split(separator: "$").map(\.count) == [1, 3, 16, 88])
        let reread = try PasswordHash(encoded: hash.encoded)
        #expect(reread == hash)
        #expect(reread.matches(password: Array("1234".utf8)))
    }

    @Test func everyNewHashHasItsOwnSalt() {
        let salts = Set((0..<20).map { _ in PasswordHash(password: Array("same".utf8)).salt })
        #expect(salts.count == 20)
    }

    @Test func passwordsAreBytesNotText() throws {
        // An MQTT password is binary data; bytes that are not UTF-8 are fine.
        let bytes: [UInt8] = [0xFF, 0x00, 0xC3]
        let hash = PasswordHash(password: bytes, scheme: .sha512)
        #expect(try PasswordHash(encoded: hash.encoded).matches(password: bytes))
        #expect(!hash.matches(password: [0xFF, 0x00]))
    }

    @Test(arguments: [
        ("plaintext", "not hashed"),
        ("$5$AAECAwQFBgcICQoL$aGFzaA==", "not hashed"),
        ("$7$101$AAECAwQFBgcICQoL", "3 fields"),
        ("$6$AAECAwQFBgcICQoL$x$y", "2 fields"),
        ("$7$0$AAECAwQFBgcICQoL$" + String(repeating: "A", count: 86) + "==", "iteration count '0'"),
        ("$7$-5$AAECAwQFBgcICQoL$" + String(repeating: "A", count: 86) + "==", "iteration count '-5'"),
        ("$7$ten$AAECAwQFBgcICQoL$" + String(repeating: "A", count: 86) + "==", "iteration count 'ten'"),
        ("$7$99999999999$AAECAwQFBgcICQoL$" + String(repeating: "A", count: 86) + "==", "iteration count"),
        ("$7$101$AAECAwQFBgcICQo$" + String(repeating: "A", count: 86) + "==", "salt is not valid base64"),
        ("$7$101$AAECAwQFBgcICQoLDA0ODw==$" + String(repeating: "A", count: 86) + "==", "salt is 16 bytes"),
        ("$7$101$AAECAwQFBgcICQoL$AAAA", "hash is 3 bytes"),
        ("$6$AAECAwQFBgcICQoL$" + String(repeating: "A", count: 86) + "=A", "hash is not valid base64"),
    ])
    func malformedHashesSayWhatIsWrong(encoded: String, expected: String) {
        #expect {
            try PasswordHash(encoded: encoded)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }
}

@Suite("Base64 as the password file uses it", .timeLimit(.minutes(5)))
struct AuthBase64Tests {
    @Test func rfc4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test func allByteValuesRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
    }

    @Test(arguments: ["Zg", "Zg=", "Z===", "Zh==", "Zm9v\n", "Zm 9v", "Zm9=v", "Zm9-", "===="])
    func refusesWhatIsNotCanonical(text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
