import Crypto
import Logging
import NIOCore
import ServiceLifecycle

/// Redis connections for a whole event loop group: each loop owns `connectionsPerLoop`
/// connections, and a command sent from a loop goes out on one of that loop's connections, so
/// the reply completes the caller's future on the caller's thread.
///
/// Also a swift-service-lifecycle `Service`: `run()` waits for graceful shutdown, then closes
/// every connection.
public final class RedisConnectionPool: Service, Sendable {
    public let configuration: RedisConfiguration
    private let pools: [ObjectIdentifier: RedisLoopPool]
    private let ordered: [RedisLoopPool]
    private let scripts: [String]
    /// The SHA1 of each script, as Redis names cached scripts (computed here, so connections need
    /// no SCRIPT LOAD and an ACL user without it works).
    private let scriptSHAs: [String]
    /// Listens for master switches when Redis is behind Sentinel.
    private let watcher: RedisSentinelWatcher?

    /// - Parameters:
    ///   - scripts: the Lua scripts `evaluate` runs (by SHA1; sent whole when Redis lacks one).
    ///   - security: secures each connection (TLS for `rediss://`), or nil for plain TCP.
    public init(
        configuration: RedisConfiguration, group: any EventLoopGroup, scripts: [String] = [],
        security: (any RedisChannelSecurity)? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.scripts = scripts
        self.scriptSHAs = scripts.map { script in
            Insecure.SHA1.hash(data: Array(script.utf8)).map { byte in
                let hex = Array("0123456789abcdef".utf8)
                return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }.joined()
        }
        var ordered: [RedisLoopPool] = []
        for loop in group.makeIterator() {
            ordered.append(RedisLoopPool(eventLoop: loop, configuration: configuration, security: security, logger: logger))
        }
        self.ordered = ordered
        self.pools = Dictionary(uniqueKeysWithValues: ordered.map { (ObjectIdentifier($0.eventLoop), $0) })
        if let sentinel = configuration.sentinel, let first = ordered.first {
            let pools = ordered
            watcher = RedisSentinelWatcher(
                sentinel: sentinel, base: configuration, security: security, eventLoop: first.eventLoop, logger: logger,
                onSwitch: { _ in
                    for pool in pools { pool.eventLoop.execute { pool.reconnectAll() } }
                }
            )
        } else {
            watcher = nil
        }
    }

    /// Sends `command` on a connection of `eventLoop` (or of the group's first loop when
    /// `eventLoop` is not in the group); the future completes on `eventLoop`. The reply must be
    /// in within the command timeout from now, however long the command waits for a connection.
    /// - Returns: the reply; fails with `RedisClientError`.
    public func send(_ command: RedisCommand, on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        let deadline = eventLoop.now + configuration.commandTimeout
        return onPool(for: eventLoop) { pool in pool.send(command, deadline: deadline) }
    }

    /// Runs script number `index` (of those given at init) with EVALSHA, falling back to EVAL
    /// (which also caches it in Redis) when Redis does not have it (NOSCRIPT), within one
    /// command timeout for both.
    public func evaluate(script index: Int, keys: [ByteBuffer], arguments: [ByteBuffer], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        let script = scripts[index]
        let sha = scriptSHAs[index]
        let deadline = eventLoop.now + configuration.commandTimeout
        return onPool(for: eventLoop) { pool in
            let tail = [ByteBuffer(string: String(keys.count))] + keys + arguments
            return pool.send(RedisCommand([ByteBuffer(string: "EVALSHA"), ByteBuffer(string: sha)] + tail), deadline: deadline)
                .flatMapError { error in
                    guard let clientError = error as? RedisClientError, clientError.detail.hasPrefix("NOSCRIPT") else {
                        return pool.eventLoop.makeFailedFuture(error)
                    }
                    return pool.send(RedisCommand([ByteBuffer(string: "EVAL"), ByteBuffer(string: script)] + tail), deadline: deadline)
                }
        }
    }

    private func onPool<T: Sendable>(
        for eventLoop: any EventLoop, _ body: @escaping @Sendable (RedisLoopPool) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        if let pool = pools[ObjectIdentifier(eventLoop)], eventLoop.inEventLoop {
            return body(pool)
        }
        let pool = pools[ObjectIdentifier(eventLoop)] ?? ordered[0]
        return pool.eventLoop.flatSubmit { body(pool) }.hop(to: eventLoop)
    }

    /// Closes every connection of every loop.
    public func close() async {
        try? await watcher?.stop().get()
        for pool in ordered {
            try? await pool.eventLoop.flatSubmit { pool.close() }.get()
        }
    }

    public func run() async throws {
        watcher?.start()
        try? await gracefulShutdown()
        await close()
    }
}
