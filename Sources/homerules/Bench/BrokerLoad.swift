import Foundation
import MQTT
import NIOCore
import Rules

/// The scenarios of `homerules bench broker`, on lean connections.
struct BrokerLoad {
    let host: String
    let port: Int
    let qos: QoS
    let payload: Int
    /// Messages a publisher may be ahead of its slowest receiver; 0 for none.
    let window: Int
    /// QoS 1 and 2 messages a publisher may have awaiting the broker's acknowledgement.
    var inflight = 100
    /// The protocol version of every connection.
    var version = ProtocolVersion.v3_1_1
    /// Every connection on one loop: the generator runs pinned to one core,
    /// and the flow windows need no locks.
    let loop: any EventLoop

    func fanIn(publishers: Int, messages: Int, rate: Int? = nil) async throws -> BenchReport {
        let flows = try await makeFlows(publishers: publishers, receivers: 1)
        let subscriber = try await open("bench-in-sub")
        try await subscriber.subscribe("bench/+/in", qos: qos, flows: flows)
        let perPublisher = messages / publishers
        var senders: [LoadConnection] = []
        for index in 0..<publishers { senders.append(try await open("bench-in-\(index)")) }
        let jobs = (0..<publishers).map {
            PublishJob(
                topic: "bench/\($0)/in", count: perPublisher, qos: qos, payloadSize: payload, publisher: UInt32($0),
                inflight: inflight, rate: rate.map { max(1, $0 / publishers) })
        }
        let report = try await measure(
            "fan-in \(publishers)→1", senders: Array(zip(senders, jobs)), receivers: [subscriber], flows: flows,
            expected: Dictionary(uniqueKeysWithValues: jobs.map { ($0.publisher, perPublisher) }))
        for connection in senders + [subscriber] { await connection.close() }
        return report
    }

    func fanOut(subscribers: Int, messages: Int, rate: Int? = nil) async throws -> BenchReport {
        let flows = try await makeFlows(publishers: 1, receivers: subscribers)
        var receivers: [LoadConnection] = []
        for index in 0..<subscribers {
            let receiver = try await open("bench-out-sub-\(index)")
            try await receiver.subscribe("bench/out", qos: qos, flows: flows, receiverIndex: index)
            receivers.append(receiver)
        }
        let sender = try await open("bench-out-pub")
        let job = PublishJob(topic: "bench/out", count: messages, qos: qos, payloadSize: payload, publisher: 0, inflight: inflight, rate: rate)
        let report = try await measure(
            "fan-out 1→\(subscribers)", senders: [(sender, job)], receivers: receivers, flows: flows, expected: [0: messages])
        for connection in receivers + [sender] { await connection.close() }
        return report
    }

    func latency(rate: Int, seconds: Int) async throws -> BenchReport {
        let receiver = try await open("bench-latency-sub")
        try await receiver.subscribe("bench/latency", qos: qos)
        let sender = try await open("bench-latency-pub")
        let count = rate * seconds
        let job = PublishJob(topic: "bench/latency", count: count, qos: qos, payloadSize: payload, publisher: 0, inflight: inflight, rate: rate)
        let report = try await measure(
            "latency at \(rate) msg/s", senders: [(sender, job)], receivers: [receiver], flows: nil, expected: [0: count])
        for connection in [receiver, sender] { await connection.close() }
        return report
    }

    func idle(connections: Int, seconds: Int) async throws -> BenchReport {
        let start = ContinuousClock.now
        var held: [LoadConnection] = []
        held.reserveCapacity(connections)
        for index in 0..<connections {
            held.append(try await open("bench-idle-\(index)"))
            if index % 500 == 499 { progress("idle: \(index + 1) of \(connections) connected") }
        }
        let connectSeconds = (ContinuousClock.now - start).timeInterval
        // Benchmarks/compare.py reads the broker's memory while this line stands.
        FileHandle.standardError.write(Data("holding \(connections) connections\n".utf8))
        try await Task.sleep(for: .seconds(seconds))
        for connection in held { await connection.close() }
        return BenchReport(name: "idle \(connections) connections", qos: qos, payload: payload, sent: connections,
                           seconds: connectSeconds, totals: DeliveryTotals(received: connections))
    }

    private func open(_ clientID: String) async throws -> LoadConnection {
        try await LoadConnection.open(host: host, port: port, clientID: clientID, version: version, loop: loop)
    }

    /// A window per publisher, when the scenario uses them.
    private func makeFlows(publishers: Int, receivers: Int) async throws -> NIOLoopBound<FlowTable>? {
        guard window > 0 else { return nil }
        let size = window
        return try await loop.submit {
            let table = FlowTable()
            for publisher in 0..<publishers {
                table.add(FlowWindow(size: size, receivers: receivers), for: UInt32(publisher))
            }
            return NIOLoopBound(table, eventLoop: loop)
        }.get()
    }

    /// Starts every sender at once and waits until the receivers have all
    /// they should, or nothing has arrived for 5 s.
    private func measure(
        _ name: String, senders: [(LoadConnection, PublishJob)], receivers: [LoadConnection],
        flows: NIOLoopBound<FlowTable>?, expected: [UInt32: Int]
    ) async throws -> BenchReport {
        let expectedDeliveries = expected.values.reduce(0, +) * receivers.count
        let start = BenchPayload.now()
        let sending = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (connection, job) in senders {
                    let window = try await loop.submit {
                        flows?.value.windows[job.publisher].map { NIOLoopBound($0, eventLoop: loop) }
                    }.get()
                    group.addTask { try await connection.publish(job, window: window) }
                }
                try await group.waitForAll()
            }
        }
        var received = 0, lastAt = start, lastProgress = ContinuousClock.now, lastPrinted = ContinuousClock.now
        while received < expectedDeliveries {
            try await Task.sleep(for: .milliseconds(20))
            var total = 0
            for receiver in receivers {
                let progress = try await receiver.progress()
                total += progress.received
                lastAt = max(lastAt, progress.lastAt)
            }
            if total > received { lastProgress = .now }
            received = total
            if ContinuousClock.now - lastPrinted > .seconds(1) {
                progress("\(name): \(received) of \(expectedDeliveries) delivered")
                lastPrinted = .now
            }
            if ContinuousClock.now - lastProgress > .seconds(5) { break }
        }
        if received < expectedDeliveries {
            // Messages were lost: publishers waiting on their windows would wait forever.
            sending.cancel()
            for (connection, _) in senders { await connection.close() }
        }
        _ = try? await sending.value
        var totals = DeliveryTotals()
        for receiver in receivers { totals = totals + (try await receiver.totals(expectedPerPublisher: expected)) }
        let sent = senders.reduce(0) { $0 + $1.1.count }
        return BenchReport(name: name, qos: qos, payload: payload, sent: sent, seconds: Double(lastAt - start) / 1e9, totals: totals)
    }

    private func progress(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }
}
