import NIOCore

/// One Redis connection's commands in flight, as a value type: replies come back in the order
/// the commands went out (RESP has no request ids), so the oldest pending command takes each
/// reply. `RedisConnectionHandler` drives it; `Token` is what the driver completes (a promise
/// there, a number in the tests).
///
/// The rules:
/// - Each command carries its own deadline (from its request's arrival). The timer watches the
///   oldest pending command, which has the earliest deadline (commands leave in arrival order).
///   When it passes, that command and every one behind it fail with `.timeout` and the
///   connection closes: the order of replies can no longer be trusted.
/// - An error reply fails its own command only (`.serverError`).
/// - A reply with nothing pending, or bytes that are not RESP, fail everything and close.
/// - Once closed, every pending command and every later one fails with the closing error.
public struct RedisConnectionStateMachine<Token: Sendable>: Sendable {
    public enum SendAction: Sendable {
        /// Write the command; when a deadline is given, (re)arm the timer for it.
        case write(armTimer: NIODeadline?)
        /// The connection is closed: fail the command with this error.
        case fail(RedisClientError)
    }

    public enum ReplyAction: Sendable {
        case succeed(Token, RESPValue)
        case fail(Token, RedisClientError)
        /// Fail these and close the connection.
        case failAllAndClose([Token], RedisClientError)
    }

    public enum TimerAction: Sendable {
        case none
        /// The oldest command is answered; watch the new oldest.
        case rearm(NIODeadline)
        case failAllAndClose([Token], RedisClientError)
    }

    private var pending = CircularBuffer<(token: Token, deadline: NIODeadline)>(initialCapacity: 64)
    private var closedError: RedisClientError?
    /// The deadline the timer is armed for, or nil when none is armed.
    private var armedFor: NIODeadline?

    public init() {}

    /// How many commands wait for a reply.
    public var pendingCount: Int { pending.count }

    /// A command is about to be written.
    public mutating func send(_ token: Token, deadline: NIODeadline) -> SendAction {
        if let closedError { return .fail(closedError) }
        pending.append((token, deadline))
        guard armedFor == nil else { return .write(armTimer: nil) }
        armedFor = deadline
        return .write(armTimer: deadline)
    }

    /// A reply arrived.
    public mutating func reply(_ value: RESPValue) -> ReplyAction {
        guard let oldest = pending.popFirst() else {
            return .failAllAndClose([], close(.protocolError("a reply arrived with no command pending")))
        }
        if case let .error(message) = value { return .fail(oldest.token, .serverError(message)) }
        return .succeed(oldest.token, value)
    }

    /// The timer armed for the last deadline returned fired at `now`.
    public mutating func timerFired(now: NIODeadline) -> TimerAction {
        armedFor = nil
        guard let oldest = pending.first else { return .none }
        guard oldest.deadline <= now else {
            armedFor = oldest.deadline
            return .rearm(oldest.deadline)
        }
        let error = RedisClientError.timeout("Redis did not reply in time")
        return .failAllAndClose(drain(error), error)
    }

    /// The connection closed or failed: the pending commands to fail, with `error`.
    public mutating func closed(_ error: RedisClientError) -> [Token] {
        drain(error)
    }

    /// Marks the connection closed with `error` (the first error wins) and empties the FIFO.
    private mutating func drain(_ error: RedisClientError) -> [Token] {
        _ = close(error)
        armedFor = nil
        let tokens = pending.map(\.token)
        pending.removeAll()
        return tokens
    }

    private mutating func close(_ error: RedisClientError) -> RedisClientError {
        if closedError == nil { closedError = error }
        return closedError ?? error
    }
}
