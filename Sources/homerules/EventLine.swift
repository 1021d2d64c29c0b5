import EventLog
import Foundation
import Rules

/// One readable line per event, for `homerules watch`:
///
/// ```
/// 21:04:10.123 livingroom-node.temperature = 29.5
/// 21:04:10.124 rule hot-room-led fired: temperature 29.5 is above 28 for 30 s
/// 21:04:10.125 action livingroom-node.led: set led on (home/livingroom-node/led/set 'on', rule hot-room-led)
/// 21:04:12.002 livingroom-node is offline (announced 'offline' on home/livingroom-node/status)
/// ```
enum EventLine {
    static func format(_ event: Event, calendar: Calendar = .current) -> String {
        "\(clockTime(event.time, calendar: calendar)) \(text(of: event))"
    }

    /// The lines for `event`: a sensor message becomes one line per sensor
    /// with its value and unit, decoded with the definitions as the daemon
    /// decodes it (`bedroom-sensor.humidity = 51.1 %`, not the JSON);
    /// everything else is one line, as ``format(_:calendar:)`` writes it.
    static func lines(for event: Event, decodingWith home: Home?, calendar: Calendar = .current) -> [String] {
        guard event.kind == .message, event.detail == nil, let payload = event.payload, let topic = event.topic,
              let device = event.device.flatMap({ home?.device(id: $0) })
        else { return [format(event, calendar: calendar)] }
        let values = device.sensorValues(in: Array(payload.utf8), on: topic)
        guard !values.isEmpty else { return [format(event, calendar: calendar)] }
        let time = clockTime(event.time, calendar: calendar)
        return values.map { sensor, value in
            "\(time) \(device.id).\(sensor.name) = \(value)\(sensor.unit.map { " \($0)" } ?? "")"
        }
    }

    /// The line without its time.
    static func text(of event: Event) -> String {
        let detail = event.detail.map { ": \($0)" } ?? ""
        switch event.kind {
        case .message:
            let line: String
            if let device = event.device, let entity = event.entity {
                line = "\(device).\(entity) = \(event.payload ?? "")"
            } else {
                line = [event.device, event.topic, event.payload.map { "'\($0)'" }].compactMap { $0 }.joined(separator: " ")
            }
            return line + (event.detail.map { " (ignored: \($0))" } ?? "")
        case .presence:
            let reason = event.detail.map { " (\($0))" } ?? ""
            return "\(event.device ?? "?") is \(event.payload ?? "unknown")\(reason)"
        case .ruleFired:
            return "rule \(event.rule ?? "?") fired\(detail)"
        case .ruleOtherwise:
            return "rule \(event.rule ?? "?") ran otherwise\(detail)"
        case .ruleSkipped:
            return "rule \(event.rule ?? "?") skipped\(detail)"
        case .action:
            let target = [event.device, event.entity].compactMap { $0 }.joined(separator: ".")
            let what = event.detail ?? "publish"
            let sent = [event.topic, event.payload.map { "'\($0)'" }].compactMap { $0 }.joined(separator: " ")
            let origin = [sent.isEmpty ? nil : sent, event.rule.map { "rule \($0)" }].compactMap { $0 }
            return "action" + (target.isEmpty ? "" : " \(target)") + ": \(what)"
                + (origin.isEmpty ? "" : " (\(origin.joined(separator: ", ")))")
        case .error:
            let about = [event.device.map { "device \($0)" }, event.rule.map { "rule \($0)" }].compactMap { $0 }
            return "error" + (about.isEmpty ? "" : " (\(about.joined(separator: ", ")))") + detail
        case .reload:
            return "reload\(detail)"
        }
    }

    /// `21:04:10.123` in local time.
    static func clockTime(_ date: Date, calendar: Calendar = .current) -> String {
        let parts = calendar.dateComponents([.hour, .minute, .second, .nanosecond], from: date)
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let milliseconds = (parts.nanosecond ?? 0) / 1_000_000
        return "\(padded(parts.hour ?? 0, 2)):\(padded(parts.minute ?? 0, 2)):\(padded(parts.second ?? 0, 2)).\(padded(milliseconds, 3))"
    }
}
