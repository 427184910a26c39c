import Logging
import NIOCore
import SessionCore

/// What `HTTPRequestHandler` tells `RequestDeadlineHandler` about the request on the wire
/// (sent as outbound user events).
enum RequestProgress: Sendable {
    /// A request head was parsed: the request handler keeps the deadline of its body.
    case headReceived
    /// The request was answered: the next bytes start a new request.
    case answered
}

/// Cuts off clients that send a request head too slowly (one byte at a time keeps an idle
/// timer from firing): from the first byte of a request, the head must arrive within
/// `timeout`, else the client gets a 408 problem and the connection closes. Sits in front of
/// the HTTP decoder, so it sees bytes; the body's deadline is the request handler's.
final class RequestDeadlineHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let logger: Logger
    private let metrics: SessiondMetrics?
    private var deadline: Scheduled<Void>?
    /// A head was parsed and its request is not answered yet.
    private var inRequest = false

    init(timeout: TimeAmount, logger: Logger, metrics: SessiondMetrics? = nil) {
        self.timeout = timeout
        self.logger = logger
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if deadline == nil && !inRequest {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = loopBound.value
                handler.expire(context: context)
            }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? RequestProgress else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        deadline?.cancel()
        deadline = nil
        inRequest = progress == .headReceived
        promise?.succeed()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func expire(context: ChannelHandlerContext) {
        deadline = nil
        guard !inRequest, context.channel.isActive else { return }
        let requestID = RequestID.random()
        metrics?.recordRequest(route: "-", status: .requestTimeout, duration: .nanoseconds(timeout.nanoseconds))
        metrics?.recordProblem(slug: ProblemType.requestTimeout.slug)
        logger.info(
            "request", metadata: ["request_id": "\(requestID)", "route": "-", "status": .stringConvertible(408), "problem": "request-timeout"]
        )
        var buffer = context.channel.allocator.buffer(capacity: 320)
        buffer.writeBytes(Self.response(seconds: timeout.nanoseconds / 1_000_000_000, requestID: requestID, now: SystemClock().now()))
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// The whole 408 response, written as bytes: no request head exists to answer through the
    /// HTTP encoder.
    static func response(seconds: Int64, requestID: String, now: Timestamp) -> [UInt8] {
        let problem = Problem(.requestTimeout, detail: "the request head did not arrive within \(seconds) s of its first byte")
        let body = problem.response.body
        var text = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/problem+json\r\nCache-Control: no-store\r\n"
        text += "X-Request-Id: \(requestID)\r\nDate: \(HTTPDate.format(secondsSinceEpoch: now.millisecondsSinceEpoch / 1000))\r\n"
        text += "Connection: close\r\nContent-Length: \(body.readableBytes)\r\n\r\n"
        return Array(text.utf8) + Array(body.readableBytesView)
    }
}
