import Foundation
import GRDB
@testable import EventLog
import Testing

@Suite("Event encodings: database dates and JSON", .timeLimit(.minutes(5)))
struct EventEncodingTests {
    @Test(arguments: [0, 1_800_000_000.123, 1_800_000_000.8309999, 951_782_400.5, -86_400.25, 4_102_444_799.999])
    func databaseTextIsGRDBsDateFormat(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(EventTime.databaseText(date) == String.fromDatabaseValue(date.databaseValue))
    }

    @Test func isoTextIsUTCWithMilliseconds() {
        #expect(EventTime.isoText(Date(timeIntervalSince1970: 1_800_000_000.25)) == "2027-01-15T08:00:00.250Z")
    }

    @Test func jsonRoundTripsEveryFieldAndEscapes() throws {
        let event = Event(
            id: 42, time: Date(timeIntervalSince1970: 1_800_000_000.5), kind: .action, device: "node", entity: "led",
            topic: "home/node/led/set", payload: "say \"hi\"\n\\ \u{1}", rule: "r/1", detail: "set node.led on", cause: 41)
        let json = String(decoding: event.json(), as: UTF8.self)
        #expect(json.hasPrefix(#"{"cause":41,"detail":"set node.led on","device":"node","entity":"led","id":42,"kind":"action","payload":"say \"hi\"\n\\ \u0001""#))
        #expect(json.contains(#""topic":"home/node/led/set""#))
        #expect(try Event.fromJSON(event.json()) == event)
    }

    @Test func absentFieldsAreLeftOut() {
        let event = Event(id: 1, time: Date(timeIntervalSince1970: 0), kind: .reload)
        #expect(String(decoding: event.json(), as: UTF8.self) == #"{"id":1,"kind":"reload","time":"1970-01-01T00:00:00.000Z"}"#)
    }
}
