import Crypto
import Logging
import NIOCore
import ServiceLifecycle

/// Redis connections for a whole event loop group: each loop owns `connectionsPerLoop`
/// connections (per node, on a cluster), and a command sent from a loop goes out on one of that
/// loop's connections, so the reply completes the caller's future on the caller's thread.
///
/// One Redis, Redis behind Sentinel, or a Redis Cluster (`configuration.cluster`): then each
/// loop routes by the key's slot (`RedisClusterRouter`), and one `RedisClusterRefresher` keeps
/// the loops' maps of the slots current.
///
/// Also a swift-service-lifecycle `Service`: `run()` waits for graceful shutdown, then closes
/// every connection.
public final class RedisConnectionPool: Service, Sendable {
    public let configuration: RedisConfiguration
    private let senders: [ObjectIdentifier: any RedisLoopSender]
    private let ordered: [any RedisLoopSender]
    private let scripts: [String]
    /// The SHA1 of each script, as Redis names cached scripts (computed here, so connections need
    /// no SCRIPT LOAD and an ACL user without it works).
    private let scriptSHAs: [String]
    /// Listens for master switches when Redis is behind Sentinel.
    private let watcher: RedisSentinelWatcher?
    /// Reads the slot map when Redis is a cluster.
    private let refresher: RedisClusterRefresher?

    /// - Parameters:
    ///   - scripts: the Lua scripts `evaluate` runs (by SHA1; sent whole when Redis lacks one).
    ///   - security: secures each connection (TLS for `rediss://`), or nil for plain TCP.
    ///   - observer: gets redirects, map reads, failovers and per-node latencies, or nil.
    public init(
        configuration: RedisConfiguration, group: any EventLoopGroup, scripts: [String] = [],
        security: (any RedisChannelSecurity)? = nil, observer: (any RedisClientObserver)? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.scripts = scripts
        self.scriptSHAs = scripts.map { script in
            Insecure.SHA1.hash(data: Array(script.utf8)).map { byte in
                let hex = Array("0123456789abcdef".utf8)
                return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }.joined()
        }
        let loops = Array(group.makeIterator())
        var ordered: [any RedisLoopSender] = []
        if let cluster = configuration.cluster, let first = loops.first {
            let refresher = RedisClusterRefresher(
                eventLoop: first, cluster: cluster, configuration: configuration, security: security, observer: observer, logger: logger
            )
            let routers = loops.map { loop in
                RedisClusterRouter(
                    eventLoop: loop, configuration: configuration, cluster: cluster, security: security, refresher: refresher,
                    observer: observer, logger: logger
                )
            }
            refresher.attach(routers)
            ordered = routers
            self.refresher = refresher
        } else {
            ordered = loops.map { loop in RedisLoopPool(eventLoop: loop, configuration: configuration, security: security, logger: logger) }
            refresher = nil
        }
        self.ordered = ordered
        self.senders = Dictionary(uniqueKeysWithValues: ordered.map { (ObjectIdentifier($0.eventLoop), $0) })
        if let sentinel = configuration.sentinel, let first = loops.first {
            let pools = ordered.compactMap { $0 as? RedisLoopPool }
            watcher = RedisSentinelWatcher(
                sentinel: sentinel, base: configuration, security: security, eventLoop: first, logger: logger,
                onSwitch: { from in
                    observer?.failedOver(from: from)
                    for pool in pools { pool.eventLoop.execute { pool.reconnectAll() } }
                }
            )
        } else {
            watcher = nil
        }
    }

    /// Sends `command` on a connection of `eventLoop` (or of the group's first loop when
    /// `eventLoop` is not in the group); the future completes on `eventLoop`. The reply must be
    /// in within the command timeout from now, however long the command waits for a connection
    /// (and, on a cluster, follows redirects).
    /// - Parameter key: the key the command works on, which picks the node on a cluster; nil
    ///   for a command without a key (then any primary).
    /// - Returns: the reply; fails with `RedisClientError`.
    public func send(_ command: RedisCommand, key: ByteBuffer?, on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        let deadline = eventLoop.now + configuration.commandTimeout
        return onSender(for: eventLoop) { sender in sender.send(command, key: key, deadline: deadline) }
    }

    /// Sends `command`, routed (on a cluster) by its first argument as the key: right for the
    /// usual single-key commands (`GET k`, `HGETALL k`); use `send(_:key:on:)` for the others.
    public func send(_ command: RedisCommand, on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        send(command, key: command.arguments.count > 1 ? command.arguments[1] : nil, on: eventLoop)
    }

    /// Succeeds when Redis can serve every key now: one PING, or on a cluster a primary for
    /// every slot and a PING answered by each. Fails with `RedisClientError` saying why not.
    public func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let deadline = eventLoop.now + configuration.commandTimeout
        return onSender(for: eventLoop) { sender in sender.checkReady(deadline: deadline) }
    }

    /// Runs script number `index` (of those given at init) with EVALSHA, falling back to EVAL
    /// (which also caches it in Redis) when Redis does not have it (NOSCRIPT: on a cluster, each
    /// node learns each script this way), within one command timeout for both. The first key
    /// picks the node on a cluster.
    public func evaluate(script index: Int, keys: [ByteBuffer], arguments: [ByteBuffer], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        let script = scripts[index]
        let sha = scriptSHAs[index]
        let deadline = eventLoop.now + configuration.commandTimeout
        let key = keys.first
        return onSender(for: eventLoop) { sender in
            let tail = [ByteBuffer(string: String(keys.count))] + keys + arguments
            return sender.send(RedisCommand([ByteBuffer(string: "EVALSHA"), ByteBuffer(string: sha)] + tail), key: key, deadline: deadline)
                .flatMapError { error in
                    guard let clientError = error as? RedisClientError, clientError.detail.hasPrefix("NOSCRIPT") else {
                        return sender.eventLoop.makeFailedFuture(error)
                    }
                    return sender.send(RedisCommand([ByteBuffer(string: "EVAL"), ByteBuffer(string: script)] + tail), key: key, deadline: deadline)
                }
        }
    }

    private func onSender<T: Sendable>(
        for eventLoop: any EventLoop, _ body: @escaping @Sendable (any RedisLoopSender) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        if let sender = senders[ObjectIdentifier(eventLoop)], eventLoop.inEventLoop {
            return body(sender)
        }
        let sender = senders[ObjectIdentifier(eventLoop)] ?? ordered[0]
        return sender.eventLoop.flatSubmit { body(sender) }.hop(to: eventLoop)
    }

    /// Closes every connection of every loop.
    public func close() async {
        try? await watcher?.stop().get()
        try? await refresher?.stop().get()
        for sender in ordered {
            try? await sender.eventLoop.flatSubmit { sender.close() }.get()
        }
    }

    public func run() async throws {
        watcher?.start()
        refresher?.request()
        try? await gracefulShutdown()
        await close()
    }
}
