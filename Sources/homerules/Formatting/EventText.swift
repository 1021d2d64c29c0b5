import EventLog

/// How one event reads in a line of text.
enum EventText {
    /// What the event is about: `livingroom-node.led`, `livingroom-node`,
    /// or the rule `hot-room-led`; `–` for a reload.
    static func subject(_ event: Event) -> String {
        switch (event.device, event.entity) {
        case (let device?, let entity?): "\(device).\(entity)"
        case (let device?, nil): device
        case (nil, _): event.rule ?? "–"
        }
    }

    /// `home/x/temperature = 29.5 (payload ...)`, `offline (announced ...)`,
    /// or the detail alone, with the rule when the subject is not the rule.
    static func summary(_ event: Event) -> String {
        var main: String?
        if let topic = event.topic {
            main = "\(oneLine(topic)) = \(payload(event.payload ?? ""))"
        } else if let payload = event.payload {
            main = self.payload(payload)
        }
        var notes = [String]()
        if let detail = event.detail {
            if main == nil { main = oneLine(detail) } else { notes.append(oneLine(detail)) }
        }
        if let rule = event.rule, subject(event) != rule { notes.append("rule \(rule)") }
        let text = main ?? ""
        guard !notes.isEmpty else { return text }
        let joined = "(" + notes.joined(separator: "; ") + ")"
        return text.isEmpty ? joined : text + "  " + joined
    }

    /// A payload on one line; an empty one as `""` so that it shows.
    static func payload(_ text: String) -> String {
        text.isEmpty ? "\"\"" : oneLine(text)
    }

    /// Keeps one event on one line whatever a device sends.
    static func oneLine(_ text: String) -> String {
        guard text.contains(where: \.isNewline) else { return text }
        return text.replacingOccurrences(of: "\r\n", with: "\\n")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
    }
}
