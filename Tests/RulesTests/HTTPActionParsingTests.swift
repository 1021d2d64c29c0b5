import Foundation
import Testing
@testable import Rules

@Suite("http actions in rule files", .timeLimit(.minutes(5))) struct HTTPActionParsingTests {
    @Test func anHTTPActionReadsWithItsDefaults() throws {
        let home = try validHome(devices: ["node.yaml": livingroomNode], rules: ["r.yaml": """
            - id: notify
              when: { sensor: livingroom-node.temperature, above: 28 }
              then:
                - http:
                    url: "https://ntfy.sh/{{ secrets.topic }}"
                    body: "{{ device.name }} is {{ trigger.value }}"
                - http: { url: "http://192.168.1.5/cm?cmnd=Power%20On", method: get, timeout: 2s, retries: 0 }
            """])
        let actions = try #require(home.rule(id: "notify")?.actions)
        guard case .http(let post) = actions[0], case .http(let get) = actions[1] else { Issue.record("not http actions"); return }
        #expect(post.method == "POST" && post.timeout == .seconds(10) && post.retries == 2 && post.secretNames == ["topic"])
        #expect(get.method == "GET" && get.timeout == .seconds(2) && get.retries == 0 && get.body == nil)
        #expect(home.secretsUsed.map(\.secret) == ["topic"])
    }

    @Test func mistakesAreReportedAtTheirLine() {
        let rules = """
            - id: r
              when: { mqtt: go }
              then:
                - http: { url: "ntfy.sh/x" }
                - http: { url: "http://x", method: FETCH }
                - http: { url: "http://x", headers: { "Bad Header": v } }
                - http: { url: "http://x", timeout: 10m }
                - http: { url: "http://x", retries: 11 }
                - http: { url: "http://x", body: "{{ secrets }}" }
                - publish: { topic: t, payload: "{{ secrets.token }}" }
                - http: { url: "http://x", bdy: "hi" }
                - http: { url: "http://x", cafile: ca.crt }
            """
        #expect(errors(rules: ["r.yaml": rules]) == [
            "rules/r.yaml:4:20: error: 'url' must start with http:// or https://, found 'ntfy.sh/x'",
            "rules/r.yaml:5:40: error: unknown method 'FETCH'; use GET, POST, PUT, PATCH or DELETE",
            "rules/r.yaml:6:43: error: 'Bad Header' is not a header name: use letters, digits, '-' and '_'",
            "rules/r.yaml:7:41: error: 'timeout' must be above 0 and at most 5 min",
            "rules/r.yaml:8:41: error: expected a whole number from 0 to 10 for 'retries', found '11'",
            "rules/r.yaml:9:38: error: write secrets.<name>, as in secrets.ntfy_token (in 'body')",
            "rules/r.yaml:10:37: error: 'secrets.token' can only be used in an 'http' action: what else a rule sends is logged (in 'payload')",
            "rules/r.yaml:11:32: error: unknown key 'bdy' in 'http'; did you mean 'body'?",
            "rules/r.yaml:12:40: error: 'cafile' is for https:// URLs",
        ])
    }
}
