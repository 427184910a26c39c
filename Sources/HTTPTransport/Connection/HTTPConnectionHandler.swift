import Logging
import NIOCore
import NIOHTTP1

/// One client connection, from bytes to responses: parses requests with `HTTPRequestParser`,
/// hands each complete request to the responder on this channel's event loop, writes the
/// response, and tells the responder of each answer (for metrics and the access log).
///
/// Requests are answered one at a time, in order (HTTP pipelining): while one is being answered
/// the next is not parsed, and the socket is read only until 64 KiB of pipelined bytes wait.
/// Nothing is read while the channel is not writable, that is while the client does not read
/// its answers. So what one connection holds is bounded: one request (head up to
/// `maxHeadBytes`, body up to the body limit), 64 KiB waiting, what one read brought, and one
/// response beyond the write buffer's high-water mark.
///
/// Every request must arrive whole within `requestTimeout` of its first byte (a 408 after); a
/// request that arrives whole in one read arms no timer. A 413 closes the sending side only and
/// reads and drops the rest for `lingerAfterRefusal`, so that the answer reaches a client that is
/// still sending. On quiescing (graceful shutdown) an idle connection closes at once, a busy one
/// after its current response.
package final class HTTPConnectionHandler<Responder: HTTPResponder>: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    /// A request whose head was parsed and whose body is arriving.
    private struct Incoming {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var requestID: String
        /// A refusal decided from the head alone (the body is read and dropped), and whether
        /// the connection closes after it.
        var early: (refusal: HTTPRefusal, closing: Bool)?
    }

    private enum State {
        /// Between requests; the buffer may hold the start of the next.
        case idle
        case receiving(Incoming)
        /// A request was handed to the application; its answer is not written yet.
        case responding
        /// A closing answer was written: input is dropped until the connection closes.
        case closing
        /// A streamed body is being written (`Response.stream`): input is dropped, and the
        /// connection closes when the stream ends.
        case streaming(ResponseStreamWriter)
    }

    private let responder: Responder
    private let logger: Logger
    private let requestTimeout: TimeAmount
    private var parser: HTTPRequestParser
    private var state = State.idle
    /// Bytes read and not parsed yet.
    private var buffer: ByteBuffer
    /// When the first byte of the request now being read arrived.
    private var requestStarted: NIODeadline?
    private var deadline: Scheduled<Void>?
    /// A `read` was asked for while reading was paused.
    private var readPending = false
    /// `process` is on the stack: answers written now are flushed when it returns.
    private var processing = false
    private var needsFlush = false
    /// Graceful shutdown: close after the current answer.
    private var quiescing = false
    private var date = HTTPDate()
    private var requestIDs = RequestIDs()

    /// How long a connection refused with 413 keeps reading (and dropping) the body before it
    /// closes, so that the 413 reaches the client.
    static var lingerAfterRefusal: TimeAmount { .seconds(2) }

    /// - Parameters:
    ///   - requestTimeout: how long a request may take to arrive whole, from its first byte.
    ///   - logger: for connection errors (debug); the access log is the responder's.
    package init(responder: Responder, requestTimeout: TimeAmount = .seconds(30), logger: Logger) {
        self.responder = responder
        self.requestTimeout = requestTimeout
        self.parser = HTTPRequestParser(maxHeadBytes: responder.maxHeadBytes)
        self.logger = logger
        self.buffer = ByteBuffer()
    }

    // MARK: - Reading

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        switch state {
        case .closing, .streaming: return
        case .idle, .receiving, .responding: break
        }
        if buffer.readableBytes == 0 {
            buffer = incoming
        } else {
            buffer.writeBuffer(&incoming)
        }
        process(context: context)
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    package func read(context: ChannelHandlerContext) {
        if mayRead(context: context) {
            context.read()
        } else {
            readPending = true
        }
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The client read some answers: go on with requests it pipelined, then read again.
        if context.channel.isWritable {
            if case let .streaming(writer) = state { writer.becameWritable() } else { process(context: context) }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Reading goes on while the client reads its answers and, while a request is being
    /// answered, until `maxPipelinedBytes` wait behind it. (Pausing on every request in flight
    /// would cost two `epoll_ctl` calls per request on the Redis store.)
    private func mayRead(context: ChannelHandlerContext) -> Bool {
        switch state {
        case .idle, .receiving: return context.channel.isWritable
        case .responding: return context.channel.isWritable && buffer.readableBytes < Self.maxPipelinedBytes
        case .closing: return true  // lingering after a 413: read and drop
        case .streaming: return true  // to notice the client leave; what it sends is dropped
        }
    }

    /// How many bytes of pipelined requests may wait while one is answered.
    static var maxPipelinedBytes: Int { 65_536 }

    /// Parses and answers what the buffer holds, as far as the state allows; then flushes what
    /// was written and resumes reading if it was paused.
    private func process(context: ChannelHandlerContext) {
        // A client that closed gets no more answers, even to requests it pipelined.
        guard !processing, context.channel.isActive else { return }
        processing = true
        parsing: while context.channel.isWritable {
            switch state {
            case .responding, .closing, .streaming:
                break parsing
            case .idle, .receiving:
                if requestStarted == nil, buffer.readableBytes > 0 { requestStarted = context.eventLoop.now }
                let part: HTTPRequestParser.Part?
                do {
                    part = try parser.next(&buffer)
                } catch {
                    refuse(error as? HTTPParseError ?? HTTPParseError(.malformed, "the request could not be parsed"), context: context)
                    break parsing
                }
                guard let part else { break parsing }
                receive(part, context: context)
            }
        }
        processing = false
        if buffer.readableBytes == 0 && buffer.capacity > 16_384 { buffer = ByteBuffer() }  // give back a large read's memory
        armDeadlineIfNeeded(context: context)
        flushIfNeeded(context: context)
        if readPending && mayRead(context: context) {
            readPending = false
            context.read()
        }
    }

    private func receive(_ part: HTTPRequestParser.Part, context: ChannelHandlerContext) {
        switch part {
        case let .head(head, framing):
            let requestID = requestIDs.id(for: head.headers)
            if case let .length(declared) = framing, declared > responder.maxBodyBytes {
                refuseTooLarge(head: head, requestID: requestID, context: context)
                return
            }
            let early = Self.check(head)
            if early == nil, head.version.minor >= 1, framing != .none,
               head.headers["Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                // The client waits for this before it sends the body (RFC 9110 §10.1.1).
                context.write(wrapOutboundOut(ByteBuffer(staticString: ResponseSerializer.continueResponse)), promise: nil)
                needsFlush = true
            }
            state = .receiving(Incoming(head: head, body: ByteBuffer(), requestID: requestID, early: early))
        case var .body(piece):
            guard case var .receiving(incoming) = state else { return }
            state = .responding  // let go of the body so that appending does not copy it
            if incoming.early == nil {
                guard incoming.body.readableBytes + piece.readableBytes <= responder.maxBodyBytes else {
                    refuseTooLarge(head: incoming.head, requestID: incoming.requestID, context: context)
                    return
                }
                incoming.body.writeBuffer(&piece)
            }
            state = .receiving(incoming)
        case .end:
            guard case let .receiving(incoming) = state else { return }
            state = .responding
            let started = requestStarted ?? context.eventLoop.now
            requestStarted = nil
            deadline?.cancel()
            deadline = nil
            if let (refusal, closing) = incoming.early {
                let tag = responder.tag(method: incoming.head.method, target: incoming.head.uri)
                write(responder.refusal(refusal), for: incoming, tag: tag, started: started, closing: closing, context: context)
                return
            }
            dispatch(incoming, started: started, context: context)
        }
    }

    /// A refusal decided from the head alone: a Host missing or doubled (RFC 9112 §3.2, and the
    /// connection closes), or CONNECT, which a server that is not a proxy refuses.
    private static func check(_ head: HTTPRequestHead) -> (refusal: HTTPRefusal, closing: Bool)? {
        if head.method == .CONNECT { return (.connect, false) }
        guard head.version.minor >= 1 else { return nil }
        switch head.headers["Host"].count {
        case 1: return nil
        case 0: return (.hostMissing, true)
        default: return (.hostRepeated, true)
        }
    }

    // MARK: - Answering

    private func dispatch(_ incoming: Incoming, started: NIODeadline, context: ChannelHandlerContext) {
        let head = incoming.head
        // HEAD is answered as GET without the body (RFC 9110 §9.3.2).
        let method = head.method == .HEAD ? .GET : head.method
        let request = Request(method: method, uri: head.uri, headers: head.headers, body: incoming.body)
        let (tag, response) = responder.respond(to: request, on: context.eventLoop)
        response.assumeIsolated().whenComplete { result in
            let answer: Response
            switch result {
            case let .success(value): answer = value
            case .failure: answer = Response(status: .internalServerError)  // the responder's futures do not fail
            }
            self.write(answer, for: incoming, tag: tag, started: started, closing: !head.isKeepAlive, context: context)
            // An answer that came later than the request (a store round trip): go on with what
            // the client pipelined behind it.
            self.process(context: context)
        }
    }

    /// Writes the answer to `incoming`, records its metrics and logs the access line. Unless
    /// the connection closes, the next request may be parsed from then on.
    private func write(
        _ response: Response, for incoming: Incoming, tag: Responder.Tag, started: NIODeadline, closing: Bool, context: ChannelHandlerContext
    ) {
        if let stream = response.stream, incoming.head.method != .HEAD {
            return startStream(stream, response, for: incoming, tag: tag, started: started, context: context)
        }
        let closing = closing || quiescing || response.stream != nil
        let keepAlive10 = !closing && incoming.head.version.minor == 0
        var out = context.channel.allocator.buffer(capacity: 256 + response.body.readableBytes)
        ResponseSerializer.serialize(
            response, requestID: incoming.requestID, date: date.now(),
            connection: closing ? "close" : (keepAlive10 ? "keep-alive" : nil), omitBody: incoming.head.method == .HEAD,
            streamed: response.stream == nil ? nil : (incoming.head.version.minor >= 1 ? .chunked : .untilClose), into: &out
        )
        if closing {
            writeClosing(out, lingering: response.status == .payloadTooLarge, context: context)
        } else {
            state = .idle
            context.write(wrapOutboundOut(out), promise: nil)
            needsFlush = true
            if !processing { flushIfNeeded(context: context) }
        }
        responder.answered(
            response, tag: tag, method: incoming.head.method, requestID: incoming.requestID, duration: context.eventLoop.now - started
        )
    }

    /// Writes the head of a streamed answer and hands the connection to `stream` until it
    /// ends; the access line and metrics come when it does, with its whole duration.
    private func startStream(
        _ stream: any ResponseStream, _ response: Response, for incoming: Incoming, tag: Responder.Tag, started: NIODeadline,
        context: ChannelHandlerContext
    ) {
        let chunked = incoming.head.version.minor >= 1
        var out = context.channel.allocator.buffer(capacity: 256)
        ResponseSerializer.serialize(
            response, requestID: incoming.requestID, date: date.now(), connection: "close", omitBody: false,
            streamed: chunked ? .chunked : .untilClose, into: &out
        )
        deadline?.cancel()
        deadline = nil
        buffer = ByteBuffer()
        needsFlush = false
        var buffered = 0
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let sink = ResponseStreamWriter.Sink(
            write: { bytes in
                let (handler, context) = loopBound.value
                let count = bytes.readableBytes
                buffered += count
                context.writeAndFlush(handler.wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in buffered -= count }
            },
            isWritable: { loopBound.value.1.channel.isWritable },
            bufferedBytes: { buffered },
            close: { gracefully in
                let (handler, context) = loopBound.value
                handler.endStream(context: context)
                if gracefully {
                    context.writeAndFlush(handler.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                } else {
                    context.close(promise: nil)
                }
            }
        )
        let writer = ResponseStreamWriter(eventLoop: context.eventLoop, chunked: chunked, sink: sink)
        state = .streaming(writer)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        let responder = self.responder
        let method = incoming.head.method
        let requestID = incoming.requestID
        let eventLoop = context.eventLoop
        writer.onClose {
            responder.answered(response, tag: tag, method: method, requestID: requestID, duration: eventLoop.now - started)
        }
        stream.start(writer)
    }

    /// The streamed answer is over (finished, cut, or the client left): input is dropped until
    /// the connection closes.
    private func endStream(context: ChannelHandlerContext) {
        guard case let .streaming(writer) = state else { return }
        state = .closing
        writer.closed()
    }

    /// Writes `bytes` as the connection's last answer, then closes. After a 413 (`lingering`)
    /// only the sending side closes at once: the rest of the body may still be on its way, and
    /// closing with it unread would make the kernel send a reset that can destroy the 413
    /// before the client reads it. What arrives is read and dropped for a moment.
    private func writeClosing(_ bytes: ByteBuffer, lingering: Bool, context: ChannelHandlerContext) {
        state = .closing
        deadline?.cancel()
        deadline = nil
        buffer = ByteBuffer()
        needsFlush = false
        let written = context.writeAndFlush(wrapOutboundOut(bytes))
        written.assumeIsolated().whenComplete { _ in
            if lingering {
                context.close(mode: .output, promise: nil)
                context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerAfterRefusal) { context.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        }
    }

    private func refuseTooLarge(head: HTTPRequestHead, requestID: String, context: ChannelHandlerContext) {
        let response = responder.refusal(.bodyTooLarge(limit: responder.maxBodyBytes))
        let incoming = Incoming(head: head, body: ByteBuffer(), requestID: requestID)
        let tag = responder.tag(method: head.method, target: head.uri)
        write(response, for: incoming, tag: tag, started: requestStarted ?? context.eventLoop.now, closing: true, context: context)
    }

    /// Answers bytes that are not a request sessiond reads, and closes.
    private func refuse(_ error: HTTPParseError, context: ChannelHandlerContext) {
        answerWithoutHead(responder.refusal(.unreadable(error)), context: context)
    }

    /// 408 for a request that did not arrive whole in time.
    private func timedOut(context: ChannelHandlerContext) {
        deadline = nil
        let seconds = requestTimeout.nanoseconds / 1_000_000_000
        switch state {
        case let .receiving(incoming):
            let response = responder.refusal(.timeout(seconds: seconds, headArrived: true))
            let tag = responder.tag(method: incoming.head.method, target: incoming.head.uri)
            write(response, for: incoming, tag: tag, started: requestStarted ?? context.eventLoop.now, closing: true, context: context)
        case .idle:
            answerWithoutHead(responder.refusal(.timeout(seconds: seconds, headArrived: false)), context: context)
        case .responding, .closing, .streaming:
            return
        }
    }

    /// Answers `response` when no request head was parsed, and closes.
    private func answerWithoutHead(_ response: Response, context: ChannelHandlerContext) {
        let requestID = requestIDs.next()
        var out = context.channel.allocator.buffer(capacity: 512)
        ResponseSerializer.serialize(response, requestID: requestID, date: date.now(), connection: "close", omitBody: false, into: &out)
        writeClosing(out, lingering: false, context: context)
        let now = context.eventLoop.now
        responder.answered(response, tag: nil, method: nil, requestID: requestID, duration: now - (requestStarted ?? now))
    }

    // MARK: - Deadlines, flushing, events

    /// Schedules the 408 of a request that is partly here; nothing when none is.
    private func armDeadlineIfNeeded(context: ChannelHandlerContext) {
        guard deadline == nil, let started = requestStarted else { return }
        switch state {
        case .idle, .receiving: break
        case .responding, .closing, .streaming: return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(deadline: started + requestTimeout) {
            let (handler, context) = loopBound.value
            handler.timedOut(context: context)
        }
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        context.flush()
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            switch state {
            case .idle, .receiving:
                logger.debug("closing idle connection")
                context.close(promise: nil)
            case .responding, .closing, .streaming:
                break
            }
            return
        }
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            // A stream ends properly: its client reconnects elsewhere (or later) and resumes.
            if case let .streaming(writer) = state { writer.finish() }
            if case .idle = state, buffer.readableBytes == 0, parser.isBetweenRequests {
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        endStream(context: context)
        context.fireChannelInactive()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
