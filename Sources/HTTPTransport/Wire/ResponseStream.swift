import NIOCore

/// A response body written over time rather than at once (Server-Sent Events). The transport
/// writes the response's head (`Transfer-Encoding: chunked` on HTTP/1.1, a body that ends
/// with the connection on HTTP/1.0; `Connection: close` either way), then calls `start` on
/// the connection's event loop with a writer. The connection closes when the stream finishes,
/// when the client goes away, and on graceful shutdown.
public protocol ResponseStream: Sendable {
    /// Starts writing through `writer`; called once, on `writer.eventLoop`. Everything the
    /// stream does with the writer happens on that loop.
    func start(_ writer: ResponseStreamWriter)
}

/// The connection, as a streamed body sees it. Used on its event loop only.
public final class ResponseStreamWriter {
    /// The connection's event loop.
    public let eventLoop: any EventLoop
    private let chunked: Bool
    private var sink: Sink?
    private var closeHandlers: [() -> Void] = []
    private var writableHandler: (() -> Void)?

    /// What the connection handler gives the writer.
    struct Sink {
        var write: (ByteBuffer) -> Void
        var isWritable: () -> Bool
        var bufferedBytes: () -> Int
        /// Ends the connection (after what was written, when `gracefully`).
        var close: (_ gracefully: Bool) -> Void
    }

    init(eventLoop: any EventLoop, chunked: Bool, sink: Sink) {
        self.eventLoop = eventLoop
        self.chunked = chunked
        self.sink = sink
    }

    /// Whether the body can still be written (the stream did not finish, the client is there).
    public var isOpen: Bool { sink != nil }

    /// Whether the client keeps up: false while the connection's outbound buffer is above its
    /// high-water mark. A stream should stop producing then, and may cut the client off.
    public var isWritable: Bool { sink?.isWritable() ?? false }

    /// Bytes written but not yet taken by the socket.
    public var bufferedBytes: Int { sink?.bufferedBytes() ?? 0 }

    /// Writes `bytes` as the next part of the body, and flushes. Nothing once closed.
    public func write(_ bytes: ByteBuffer) {
        guard let sink, bytes.readableBytes > 0 else { return }
        guard chunked else { return sink.write(bytes) }
        var framed = ByteBuffer()
        framed.reserveCapacity(bytes.readableBytes + 12)
        framed.writeString(String(bytes.readableBytes, radix: 16))
        framed.writeStaticString("\r\n")
        framed.writeImmutableBuffer(bytes)
        framed.writeStaticString("\r\n")
        sink.write(framed)
    }

    /// Ends the body properly (the last chunk) and closes the connection once it is written.
    public func finish() {
        guard let sink else { return }
        if chunked { sink.write(ByteBuffer(staticString: "0\r\n\r\n")) }
        sink.close(true)
    }

    /// Closes the connection at once, dropping what is not written (a client that does not
    /// keep up). The body is left unfinished, so the client sees it was cut.
    public func abort() {
        sink?.close(false)
    }

    /// Runs `handler` once when the connection is gone (finished, aborted or closed by the
    /// client); at once if it is gone already.
    public func onClose(_ handler: @escaping () -> Void) {
        if sink == nil { return handler() }
        closeHandlers.append(handler)
    }

    /// Runs `handler` each time the client has caught up (the connection became writable).
    public func onWritable(_ handler: @escaping () -> Void) {
        writableHandler = handler
    }

    // MARK: - From the connection handler

    func becameWritable() { writableHandler?() }

    func closed() {
        guard sink != nil else { return }
        sink = nil
        writableHandler = nil
        let handlers = closeHandlers
        closeHandlers = []
        for handler in handlers { handler() }
    }
}
