import NIOCore

/// Matches replies to commands on one connection: a FIFO of pending promises, so many commands
/// are in flight at once (pipelining) and each reply completes the oldest.
///
/// - Writes are flushed once per event loop tick, so commands issued in the same tick leave in
///   one syscall.
/// - A command without a reply after `commandTimeout` fails with `.timeout`, and so does every
///   command behind it: the connection is closed, because the order of replies can no longer be
///   trusted. The pool opens a new one.
/// - When the connection closes or fails, every pending command fails with `.connectionClosed`.
/// - An error reply (`-ERR …`) fails that command's promise with `.serverError`.
public final class RedisConnectionHandler: ChannelDuplexHandler {
    public typealias InboundIn = RESPValue
    public typealias OutboundIn = (RedisCommand, EventLoopPromise<RESPValue>)
    public typealias OutboundOut = RedisCommand

    private struct Pending {
        let promise: EventLoopPromise<RESPValue>
        let deadline: NIODeadline
        let sequence: UInt64
    }

    private let commandTimeout: TimeAmount
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    private var timer: Scheduled<Void>?
    /// The command the timer was armed for.
    private var timedSequence: UInt64 = 0
    private var nextSequence: UInt64 = 0
    private var flushScheduled = false
    private var closedError: RedisClientError?

    public init(commandTimeout: TimeAmount) {
        self.commandTimeout = commandTimeout
    }

    /// How many commands wait for a reply.
    public var pendingCount: Int { pending.count }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (command, replyPromise) = unwrapOutboundIn(data)
        if let closedError {
            replyPromise.fail(closedError)
            promise?.fail(closedError)
            return
        }
        nextSequence &+= 1
        pending.append(Pending(promise: replyPromise, deadline: .now() + commandTimeout, sequence: nextSequence))
        context.write(wrapOutboundOut(command), promise: promise)
        armTimer(context: context)
        if !flushScheduled {
            flushScheduled = true
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.flushScheduled = false
                context.flush()
            }
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard let next = pending.popFirst() else {
            failAll(.protocolError("a reply arrived with no command pending"), context: context)
            return
        }
        if case let .error(message) = reply {
            next.promise.fail(RedisClientError.serverError(message))
        } else {
            next.promise.succeed(reply)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed("the connection to Redis closed"), context: context)
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure = (error as? RedisClientError) ?? .connectionClosed("connection error: \(error)")
        failAll(failure, context: context)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        failAll(.connectionClosed("the connection to Redis was torn down"), context: context, close: false)
    }

    // MARK: - Timeouts

    /// Arms one timer for the oldest pending command. When it fires and that command is still
    /// the oldest, it has waited its whole timeout; otherwise the timer moves to the new oldest.
    private func armTimer(context: ChannelHandlerContext) {
        guard timer == nil, let oldest = pending.first else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timedSequence = oldest.sequence
        let wait = max(.milliseconds(1), oldest.deadline - .now())
        timer = context.eventLoop.scheduleTask(in: wait) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            handler.checkTimeouts(context: context)
        }
    }

    private func checkTimeouts(context: ChannelHandlerContext) {
        guard let oldest = pending.first else { return }
        if oldest.sequence == timedSequence {
            failAll(.timeout("Redis did not reply within \(commandTimeout.nanoseconds / 1_000_000) ms"), context: context)
        } else {
            armTimer(context: context)
        }
    }

    /// Fails every pending command and closes the connection; later writes fail at once.
    private func failAll(_ error: RedisClientError, context: ChannelHandlerContext, close: Bool = true) {
        if closedError == nil { closedError = error }
        timer?.cancel()
        timer = nil
        let failed = pending
        pending.removeAll()
        for entry in failed { entry.promise.fail(error) }
        if close && context.channel.isActive { context.close(promise: nil) }
    }
}
