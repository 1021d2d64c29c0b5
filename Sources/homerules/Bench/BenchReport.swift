import Foundation
import MQTT

/// One scenario's figures: a line for people, or JSON.
struct BenchReport {
    var name: String
    var qos: QoS
    var payload: Int
    var sent: Int
    var seconds: Double
    var totals: DeliveryTotals

    var deliveriesPerSecond: Double { seconds > 0 ? Double(totals.received) / seconds : 0 }

    private func microseconds(_ percentile: Double) -> Double {
        Double(totals.latency.valueAtPercentile(percentile)) / 1000
    }

    var line: String {
        var text = String(format: "%@ QoS %d %dB: %d sent, %d delivered in %.2f s = %.0f msg/s; lost %d, duplicates %d, reordered %d",
                          name, Int(qos.rawValue), payload, sent, totals.received, seconds, deliveriesPerSecond,
                          totals.lost, totals.duplicates, totals.reordered)
        if totals.latency.totalCount > 0 {
            text += String(format: "; latency p50 %.0f µs, p99 %.0f µs, max %.0f µs", microseconds(50), microseconds(99),
                           Double(totals.latency.max) / 1000)
        }
        return text
    }

    var json: String {
        let fields: [(String, String)] = [
            ("scenario", "\"\(name)\""), ("qos", "\(qos.rawValue)"), ("payload", "\(payload)"), ("sent", "\(sent)"),
            ("received", "\(totals.received)"), ("lost", "\(totals.lost)"), ("duplicates", "\(totals.duplicates)"),
            ("reordered", "\(totals.reordered)"), ("seconds", String(format: "%.4f", seconds)),
            ("rate", String(format: "%.1f", deliveriesPerSecond)),
            ("p50_us", String(format: "%.1f", totals.latency.totalCount > 0 ? microseconds(50) : 0)),
            ("p99_us", String(format: "%.1f", totals.latency.totalCount > 0 ? microseconds(99) : 0)),
            ("max_us", String(format: "%.1f", Double(totals.latency.max) / 1000)),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
