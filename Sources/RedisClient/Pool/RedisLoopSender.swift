import NIOCore

/// How one event loop sends commands to Redis: through its `RedisLoopPool` (one Redis, maybe
/// behind Sentinel) or its `RedisClusterRouter`. Every method is called on `eventLoop`.
protocol RedisLoopSender: AnyObject, Sendable {
    var eventLoop: any EventLoop { get }
    /// Sends `command`, whose key is `key` (nil for a command without one), to be answered by
    /// `deadline`. Fails with `RedisClientError`.
    func send(_ command: RedisCommand, key: ByteBuffer?, deadline: NIODeadline) -> EventLoopFuture<RESPValue>
    /// Succeeds when Redis can serve every key now (fails with `RedisClientError` naming why not).
    func checkReady(deadline: NIODeadline) -> EventLoopFuture<Void>
    /// Closes every connection; later commands fail.
    func close() -> EventLoopFuture<Void>
}

extension RedisLoopPool: RedisLoopSender {
    func send(_ command: RedisCommand, key: ByteBuffer?, deadline: NIODeadline) -> EventLoopFuture<RESPValue> {
        send(command, deadline: deadline)
    }

    func checkReady(deadline: NIODeadline) -> EventLoopFuture<Void> {
        send(RedisCommand("PING"), deadline: deadline).map { _ in }
    }
}
