import NIOCore

/// A command to write, the time by which its reply must be in, and the promise it completes.
public struct RedisRequest: Sendable {
    public let command: RedisCommand
    public let deadline: NIODeadline
    public let promise: EventLoopPromise<RESPValue>
    /// Whether `ASKING` goes right before the command, on the same connection (a cluster slot
    /// being migrated: the `ASK` redirect); the promise gets the command's reply only.
    public let asking: Bool

    public init(_ command: RedisCommand, deadline: NIODeadline, promise: EventLoopPromise<RESPValue>, asking: Bool = false) {
        self.command = command
        self.deadline = deadline
        self.promise = promise
        self.asking = asking
    }
}

/// Drives a `RedisConnectionStateMachine` on one channel: writes commands (many in flight:
/// pipelining), completes their promises as replies arrive, fails them at their deadline, on
/// an error or when the channel closes, and tells the pool when the channel's writability
/// changes.
///
/// Writes are flushed once per event loop tick, so commands issued in the same tick leave in
/// one syscall.
public final class RedisConnectionHandler: ChannelDuplexHandler {
    public typealias InboundIn = RESPValue
    public typealias OutboundIn = RedisRequest
    public typealias OutboundOut = RedisCommand

    private var machine = RedisConnectionStateMachine<EventLoopPromise<RESPValue>>()
    private var timer: Scheduled<Void>?
    private var flushScheduled = false
    private let onWritabilityChange: (@Sendable (Bool) -> Void)?

    /// - Parameter onWritabilityChange: called on the channel's loop with the new writability.
    public init(onWritabilityChange: (@Sendable (Bool) -> Void)? = nil) {
        self.onWritabilityChange = onWritabilityChange
    }

    /// How many commands wait for a reply.
    public var pendingCount: Int { machine.pendingCount }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if request.asking {
            // ASKING holds for the next command only: write both in this one call, so that
            // nothing comes between them. Its own reply (+OK) is dropped; if it failed, the
            // command gets ASK or MOVED again and the caller decides.
            let asked = context.eventLoop.makePromise(of: RESPValue.self)
            asked.futureResult.whenFailure { _ in }
            if case let .write(deadline) = machine.send(asked, deadline: request.deadline) {
                context.write(wrapOutboundOut(RedisCommand("ASKING")), promise: nil)
                if let deadline { arm(deadline, context: context) }
            } else {
                asked.fail(RedisClientError.connectionClosed("the connection to Redis closed"))
            }
        }
        switch machine.send(request.promise, deadline: request.deadline) {
        case let .fail(error):
            request.promise.fail(error)
            promise?.fail(error)
            return
        case let .write(deadline):
            context.write(wrapOutboundOut(request.command), promise: promise)
            if let deadline { arm(deadline, context: context) }
        }
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = loopBound.value
            handler.flushScheduled = false
            context.flush()
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch machine.reply(unwrapInboundIn(data)) {
        case let .succeed(promise, value): promise.succeed(value)
        case let .fail(promise, error): promise.fail(error)
        case let .failAllAndClose(promises, error): failAndClose(promises, error, context: context)
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        onWritabilityChange?(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let error = RedisClientError.connectionClosed("the connection to Redis closed")
        failAndClose(machine.closed(error), error, context: context, close: false)
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure = (error as? RedisClientError) ?? .connectionClosed("connection error: \(error)")
        failAndClose(machine.closed(failure), failure, context: context)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        let error = RedisClientError.connectionClosed("the connection to Redis was torn down")
        failAndClose(machine.closed(error), error, context: context, close: false)
    }

    private func arm(_ deadline: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            switch handler.machine.timerFired(now: context.eventLoop.now) {
            case .none: break
            case let .rearm(next): handler.arm(next, context: context)
            case let .failAllAndClose(promises, error): handler.failAndClose(promises, error, context: context)
            }
        }
    }

    /// Fails `promises` with `error` and closes the channel (unless it is closing already).
    private func failAndClose(
        _ promises: [EventLoopPromise<RESPValue>], _ error: RedisClientError, context: ChannelHandlerContext, close: Bool = true
    ) {
        timer?.cancel()
        timer = nil
        for promise in promises { promise.fail(error) }
        if close && context.channel.isActive { context.close(promise: nil) }
    }
}
