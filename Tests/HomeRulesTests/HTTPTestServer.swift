import Foundation
import MQTTBroker
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 and a port of its own, for `http`
/// actions to talk to: it records every request and answers with the
/// statuses the test scripts, then 200.
final class HTTPTestServer: Sendable {
    struct Request: Sendable, Equatable {
        var method: String
        var uri: String
        var headers: [String: String]
        var body: String
    }

    /// How to answer the next requests, in order.
    enum Answer: Sendable {
        case status(Int)
        /// Read the request, never answer: for timeouts.
        case silence
    }

    /// What the server heard and has yet to answer, shared with its connections.
    final class State: Sendable {
        let value: Mutex<(requests: [Request], script: [Answer])>
        init(script: [Answer]) { value = Mutex(([], script)) }
    }

    private let channel: any Channel
    private let state: State
    var port: Int { channel.localAddress?.port ?? 0 }
    private let isTLS: Bool
    var url: String { "\(isTLS ? "https" : "http")://127.0.0.1:\(port)" }

    /// With `tls`, an https server with that certificate and key.
    init(answers: [Answer] = [], tls: (certFile: String, keyFile: String)? = nil) async throws {
        let state = State(script: answers)
        self.state = state
        // The broker's own reading of a listener's files.
        let context = try tls.map { files in
            try BrokerConfiguration.TLSFiles(certFile: files.certFile, keyFile: files.keyFile).makeServerContext()
        }
        isTLS = tls != nil
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var requests: [Request] { state.value.withLock { $0.requests } }

    /// Waits until `count` requests arrived, bounded in time.
    func waitForRequests(_ count: Int, timeout: Duration = .seconds(30)) async -> [Request] {
        let deadline = ContinuousClock.now + timeout
        while requests.count < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return requests
    }

    func stop() async {
        try? await channel.close()
    }

    private final class Responder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let state: State
        var head: HTTPRequestHead?
        var body = ""

        init(state: State) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = ""
            case .body(let buffer):
                body += String(buffer: buffer)
            case .end:
                guard let head else { return }
                let headers = Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }) { first, _ in first }
                let answer = state.value.withLock { state in
                    state.requests.append(Request(method: head.method.rawValue, uri: head.uri, headers: headers, body: body))
                    return state.script.isEmpty ? Answer.status(200) : state.script.removeFirst()
                }
                guard case .status(let code) = answer else { return }
                let status = HTTPResponseStatus(statusCode: code)
                let text = "\(code) from the test server"
                var responseHead = HTTPResponseHead(version: head.version, status: status)
                responseHead.headers.add(name: "Content-Length", value: "\(text.utf8.count)")
                responseHead.headers.add(name: "Connection", value: "close")
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}
