import Logging
import NIOCore
import NIOHTTP1
import SessionCore

/// The last handler of a connection's pipeline: collects one request (head, body up to the
/// limit, end), asks the `Application` for the response on this channel's event loop, writes
/// it, and logs one access line.
///
/// `configureHTTPServerPipeline` sits in front of it, so HTTP pipelining is answered in order,
/// protocol errors get a 400, and quiescing (graceful shutdown) closes idle connections.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Reading the body of this request.
        case receiving(HTTPRequestHead, ByteBuffer, NIODeadline, String)
        /// The application is answering; nothing more should arrive before the response.
        case responding
        /// The request was refused early (body too large); the rest is ignored and the
        /// connection closes after the response.
        case refused
    }

    private let application: Application
    private let logger: Logger
    private let clock: any SessionClock
    private let requestTimeout: TimeAmount
    private var state = State.idle
    private var date = HTTPDate()
    /// How long a connection refused with 413 keeps reading (and dropping) the body before it
    /// closes, so that the 413 reaches the client.
    static let lingerAfterRefusal: TimeAmount = .seconds(2)
    /// Ends a request whose body does not arrive within `requestTimeout` of its first byte.
    private var bodyDeadline: Scheduled<Void>?

    init(application: Application, requestTimeout: TimeAmount = .seconds(30), logger: Logger, clock: any SessionClock = SystemClock()) {
        self.application = application
        self.requestTimeout = requestTimeout
        self.logger = logger
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            guard case .idle = state else { return }
            // The head is here: its deadline is over, whatever happens to the request next.
            context.triggerUserOutboundEvent(RequestProgress.headReceived, promise: nil)
            let started = NIODeadline.now()
            let requestID = RequestID.of(head.headers)
            let limit = application.limits.maxBodyBytes
            if let problem = Self.check(head) {
                state = .refused
                write(problem.response, for: head, route: "-", endpoint: nil, requestID: requestID, started: started, closing: true, context: context)
                return
            }
            if let declared = head.headers["Content-Length"].first.flatMap(Int.init), declared > limit {
                refuseTooLarge(context: context, head: head, requestID: requestID, started: started)
                return
            }
            if head.version.minor >= 1, head.headers["Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                // The client waits for this before it sends the body (RFC 9110 §10.1.1).
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0), started, requestID)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            bodyDeadline = context.eventLoop.scheduleTask(in: requestTimeout) {
                let (handler, context) = loopBound.value
                handler.bodyTimedOut(context: context)
            }
        case var .body(part):
            guard case .receiving(let head, var body, let started, let requestID) = state else { return }
            state = .responding  // let go of `body` so that appending does not copy it
            guard body.readableBytes + part.readableBytes <= application.limits.maxBodyBytes else {
                refuseTooLarge(context: context, head: head, requestID: requestID, started: started)
                return
            }
            body.writeBuffer(&part)
            state = .receiving(head, body, started, requestID)
        case .end:
            guard case let .receiving(head, body, started, requestID) = state else { return }
            state = .responding
            bodyDeadline?.cancel()
            bodyDeadline = nil
            // HEAD is answered as GET without the body (RFC 9110 §9.3.2).
            let method = head.method == .HEAD ? .GET : head.method
            let request = Request(method: method, uri: head.uri, headers: head.headers, body: body)
            let (route, endpoint, response) = application.respond(to: request, on: context.eventLoop)
            response.assumeIsolated().whenComplete { result in
                let answer: Response
                switch result {
                case let .success(value): answer = value
                case let .failure(error): answer = Application.response(for: error, route: route, logger: self.logger)
                }
                self.write(
                    answer, for: head, route: route, endpoint: endpoint, requestID: requestID, started: started,
                    closing: !head.isKeepAlive, context: context
                )
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            switch state {
            case .idle, .receiving:
                logger.debug("closing idle connection")
                context.close(promise: nil)
            case .responding, .refused:
                break
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// 408 for a request whose body is still arriving when its time is up.
    private func bodyTimedOut(context: ChannelHandlerContext) {
        bodyDeadline = nil
        guard case let .receiving(head, _, started, requestID) = state else { return }
        state = .refused
        let seconds = requestTimeout.nanoseconds / 1_000_000_000
        let problem = Problem(.requestTimeout, detail: "the request did not arrive whole within \(seconds) s")
        let (route, _) = Router.route(head.method, Substring(head.uri.prefix { $0 != "?" }))
        write(problem.response, for: head, route: route, endpoint: nil, requestID: requestID, started: started, closing: true, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        bodyDeadline = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// A problem for a request head that HTTP/1.1 forbids: no Host, or several (RFC 9112 §3.2).
    private static func check(_ head: HTTPRequestHead) -> Problem? {
        let hosts = head.headers["Host"].count
        guard head.version.major == 1 && head.version.minor >= 1 else { return nil }
        if hosts == 1 { return nil }
        return Problem(.badRequest, detail: hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "a request may carry one Host header only")
    }

    // MARK: - Writing

    private func refuseTooLarge(context: ChannelHandlerContext, head: HTTPRequestHead, requestID: String, started: NIODeadline) {
        state = .refused
        bodyDeadline?.cancel()
        bodyDeadline = nil
        let problem = Problem(.bodyTooLarge, detail: "the body exceeds the limit of \(application.limits.maxBodyBytes) bytes")
        let (route, _) = Router.route(head.method, Substring(head.uri.prefix { $0 != "?" }))
        write(problem.response, for: head, route: route, endpoint: nil, requestID: requestID, started: started, closing: true, context: context)
    }

    /// Writes `response`, records its metrics and logs the access line.
    private func write(
        _ response: Response, for request: HTTPRequestHead, route: String, endpoint: Endpoint?, requestID: String,
        started: NIODeadline, closing: Bool, context: ChannelHandlerContext
    ) {
        var headers = response.headers
        headers.add(name: "X-Request-Id", value: requestID)
        headers.add(name: "Content-Length", value: String(response.body.readableBytes))
        headers.add(name: "Date", value: date.value(at: clock.now()))
        if closing {
            headers.add(name: "Connection", value: "close")
        } else if request.version.major == 1 && request.version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if response.body.readableBytes > 0 && request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        // Ready for the next request before `.end` goes out: writing it lets the pipeline handler
        // pass on a pipelined request at once, within this call.
        if !closing, case .responding = state {
            state = .idle
            context.triggerUserOutboundEvent(RequestProgress.answered, promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if closing, case .refused = state, response.status == .payloadTooLarge {
            // The rest of the body may still be on its way: closing with it unread would make the
            // kernel send a reset that can destroy the 413 before the client reads it. So only
            // the sending side closes now; what arrives is read and dropped for a moment.
            written.assumeIsolated().whenComplete { _ in
                context.close(mode: .output, promise: nil)
                context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerAfterRefusal) { context.close(promise: nil) }
            }
        } else if closing {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
        let nanoseconds = (NIODeadline.now() - started).nanoseconds
        application.metrics.recordRequest(route: route, status: response.status, duration: .nanoseconds(nanoseconds))
        if let slug = response.problemSlug { application.metrics.recordProblem(slug: slug) }
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "request_id": "\(requestID)", "method": "\(request.method.rawValue)", "route": "\(route)",
            "status": .stringConvertible(Int(response.status.code)), "duration_us": .stringConvertible(nanoseconds / 1000),
        ]
        // Hashed here, only when the line is written.
        if let handle = endpoint?.handle { metadata["handle"] = "\(handle)" }
        if let slug = response.problemSlug { metadata["problem"] = "\(slug)" }
        logger.info("request", metadata: metadata)
    }
}
