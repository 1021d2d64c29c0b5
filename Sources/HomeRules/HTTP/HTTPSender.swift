import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// One HTTP/1.1 request on a connection of its own, over TLS for https:
/// what a notification needs, and no more (no redirects, no pooling).
///
/// Written here rather than taken from a library: a webhook is one request
/// now and then, and SwiftNIO, already in use, does the protocol.
public final class HTTPSender: Sendable {
    /// What is kept of an answer's body, for the log.
    public static let keptBodyBytes = 512

    private let group: any EventLoopGroup
    /// By certificate authority file; `""` is the system's trust roots.
    private let tlsContexts = Mutex<[String: NIOSSLContext]>([:])

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.group = group
        _ = try tlsContext(trusting: nil)
    }

    /// The context for `cafile`, made once: reading and parsing the trust
    /// roots costs more than a request.
    private func tlsContext(trusting cafile: String?) throws -> NIOSSLContext {
        try tlsContexts.withLock { contexts in
            if let context = contexts[cafile ?? ""] { return context }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let cafile { tls.trustRoots = .file(cafile) }
            let context = try NIOSSLContext(configuration: tls)
            contexts[cafile ?? ""] = context
            return context
        }
    }

    /// A request with its secrets filled in: never logged.
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [(name: String, value: String)]
        public var body: String?
        public var timeout: Duration
        /// The certificate authority to trust for `https`, instead of the system's.
        public var cafile: String?

        public init(
            method: String, url: String, headers: [(name: String, value: String)] = [], body: String? = nil, timeout: Duration,
            cafile: String? = nil
        ) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.timeout = timeout
            self.cafile = cafile
        }
    }

    /// What the server answered.
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var reason: String
        /// The first ``keptBodyBytes`` bytes of the body, as text.
        public var body: String
    }

    /// Why a request got no answer.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The URL as rendered is not one we can send to.
        case invalidURL(String)
        /// A header value carries a line break, which would forge headers.
        case invalidHeader(String)
        case timedOut(Duration)
        case connection(String)
        /// The `cafile` cannot be read as certificates.
        case certificateAuthority(String)
        /// The daemon is stopping.
        case cancelled

        public var description: String {
            switch self {
            case .invalidURL(let why): "invalid URL: \(why)"
            case .invalidHeader(let name): "header '\(name)' has a line break in its value"
            case .timedOut(let timeout): "no answer within \(timeout)"
            case .connection(let why): why
            case .certificateAuthority(let why): why
            case .cancelled: "cancelled: the daemon is stopping"
            }
        }
    }

    /// Sends `request` and waits for the whole answer, or fails.
    public func send(_ request: Request) async throws(Failure) -> Answer {
        let target = try Target(request.url)
        // Bytes, not characters: "\r\n" is one Character.
        for header in request.headers where header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) {
            throw .invalidHeader(header.name)
        }
        let eventLoop = group.next()
        let answer = eventLoop.makePromise(of: Answer.self)
        let timeout = eventLoop.scheduleTask(in: TimeAmount(request.timeout)) {
            answer.fail(Failure.timedOut(request.timeout))
        }
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = target.isTLS ? try self.tlsContext(trusting: request.cafile) : nil
        } catch {
            throw .certificateAuthority("cannot read the certificate authority \(request.cafile ?? "of the system"): \(error)")
        }
        let connect = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(request.timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: target.isIPAddress ? nil : target.host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(AnswerCollector(answer: answer))
                }
            }
            .connect(host: target.host, port: target.port)
        connect.whenSuccess { channel in
            answer.futureResult.whenComplete { _ in channel.close(promise: nil) }
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: target.pathAndQuery)
            head.headers = Self.headers(for: request, target: target)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if let body = request.body {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
            }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { answer.fail($0) }
        }
        connect.whenFailure { answer.fail(Failure.connection(Self.words(for: $0, target: target))) }
        defer { timeout.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await answer.futureResult.get()
            } onCancel: {
                answer.fail(Failure.cancelled)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .connection(Self.words(for: error, target: target))
        }
    }

    private static func headers(for request: Request, target: Target) -> HTTPHeaders {
        var headers = HTTPHeaders()
        let given = Set(request.headers.map { $0.name.lowercased() })
        if !given.contains("host") { headers.add(name: "Host", value: target.hostHeader) }
        if !given.contains("user-agent") { headers.add(name: "User-Agent", value: "homerules") }
        if request.body != nil, !given.contains("content-type") { headers.add(name: "Content-Type", value: "text/plain; charset=utf-8") }
        for header in request.headers where !["content-length", "connection"].contains(header.name.lowercased()) {
            headers.add(name: header.name, value: header.value)
        }
        headers.add(name: "Content-Length", value: "\(request.body?.utf8.count ?? 0)")
        headers.add(name: "Connection", value: "close")
        return headers
    }

    private static func words(for error: any Error, target: Target) -> String {
        switch error {
        case let error as NIOConnectionError:
            let cause = error.connectionErrors.first.map { "\($0.error)" } ?? error.dnsAAAAError.map { "\($0)" } ?? "\(error)"
            return "cannot connect to \(target.host):\(target.port): \(cause)"
        case ChannelError.connectTimeout:
            return "cannot connect to \(target.host):\(target.port): timed out"
        case let error as NIOSSLError:
            return "TLS with \(target.host) failed: \(error)"
        default:
            return "\(error)"
        }
    }

    /// Where a URL points.
    struct Target {
        var isTLS: Bool
        var host: String
        var port: Int
        var pathAndQuery: String

        init(_ text: String) throws(Failure) {
            guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
                  scheme == "http" || scheme == "https"
            else { throw .invalidURL("'\(text.prefix(80))' is not an http:// or https:// URL") }
            guard let host = components.host, !host.isEmpty else { throw .invalidURL("no host in '\(text.prefix(80))'") }
            isTLS = scheme == "https"
            self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
            port = components.port ?? (isTLS ? 443 : 80)
            let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            pathAndQuery = path + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
        }

        var isIPAddress: Bool { (try? SocketAddress(ipAddress: host, port: 0)) != nil }

        var hostHeader: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
        }
    }
}

/// Collects the answer: its head, the start of its body, and its end.
private final class AnswerCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let answer: EventLoopPromise<HTTPSender.Answer>
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    init(answer: EventLoopPromise<HTTPSender.Answer>) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var part):
            let room = HTTPSender.keptBodyBytes - body.readableBytes
            if room > 0, let kept = part.readSlice(length: min(room, part.readableBytes)) { body.writeImmutableBuffer(kept) }
        case .end:
            guard let head else { return }
            answer.succeed(HTTPSender.Answer(
                status: Int(head.status.code), reason: head.status.reasonPhrase, body: String(buffer: body)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(HTTPSender.Failure.connection("the server closed the connection before answering"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer.fail(error)
        context.close(promise: nil)
    }
}
