import NIOCore
import NIOPosix

/// One TCP connection to Redis with its pipeline: `RESPReplyDecoder`, `RESPCommandEncoder` and a
/// `RedisConnectionHandler`. Commands may be sent from any thread; replies complete on the
/// connection's event loop.
public final class RedisConnection: Sendable {
    public let channel: any Channel

    init(channel: any Channel) {
        self.channel = channel
    }

    public var eventLoop: any EventLoop { channel.eventLoop }
    public var isActive: Bool { channel.isActive }

    /// Sends `command`, whose reply must be in by `deadline`; the future succeeds with the
    /// reply, or fails with `RedisClientError` (an error reply, a timeout, a closed connection).
    public func send(_ command: RedisCommand, deadline: NIODeadline) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        send(command, deadline: deadline, promise: promise)
        return promise.futureResult
    }

    /// Sends `command` (right after `ASKING` when `asking`); `promise` completes with its reply
    /// or failure.
    public func send(_ command: RedisCommand, deadline: NIODeadline, promise: EventLoopPromise<RESPValue>, asking: Bool = false) {
        channel.write(RedisRequest(command, deadline: deadline, promise: promise, asking: asking), promise: nil)
    }

    /// Closes the connection; pending commands fail with `.connectionClosed`.
    public func close() -> EventLoopFuture<Void> {
        channel.close().recover { _ in }
    }

    /// Connects on `eventLoop`, then AUTHs, SELECTs and PINGs (pipelined). Scripts need no
    /// loading: `RedisConnectionPool.evaluate` runs them by their SHA1, computed locally.
    ///
    /// - Parameters:
    ///   - address: where to connect instead of the configuration's host and port (the master
    ///     a Sentinel named), or nil.
    ///   - requireMaster: check with `ROLE` that the server is a master (behind Sentinel).
    ///   - security: secures the channel first (TLS), or nil for plain TCP.
    ///   - onWritabilityChange: called on `eventLoop` when the channel's writability changes.
    /// - Returns: the connection. Fails with `.notConnected` when TCP fails or times out,
    ///   `.handshake` when the TLS handshake fails or Redis refuses AUTH, SELECT or PING (the
    ///   connection is closed then).
    public static func connect(
        _ configuration: RedisConfiguration, address: (host: String, port: Int)? = nil, requireMaster: Bool = false,
        security: (any RedisChannelSecurity)? = nil, on eventLoop: any EventLoop, onWritabilityChange: (@Sendable (Bool) -> Void)? = nil
    ) -> EventLoopFuture<RedisConnection> {
        let host = address?.host ?? configuration.host
        let port = address?.port ?? configuration.port
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try security?.secure(channel, host: host)
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
                    try pipeline.addHandler(MessageToByteHandler(RESPCommandEncoder()))
                    try pipeline.addHandler(RedisConnectionHandler(onWritabilityChange: onWritabilityChange))
                }
            }
        let target = "\(host):\(port)"
        return bootstrap.connect(host: host, port: port)
            .flatMapErrorThrowing { error in
                throw RedisClientError.notConnected("cannot connect to Redis at \(target): \(error)")
            }
            .flatMap { channel in
                let connection = RedisConnection(channel: channel)
                return handshake(connection, configuration, requireMaster: requireMaster, target: target)
                    .map { connection }
                    .flatMapError { error in
                        connection.close().flatMapThrowing { throw error }
                    }
            }
    }

    private static func handshake(
        _ connection: RedisConnection, _ configuration: RedisConfiguration, requireMaster: Bool, target: String
    ) -> EventLoopFuture<Void> {
        var steps: [EventLoopFuture<RESPValue>] = []
        let deadline = connection.eventLoop.now + configuration.commandTimeout
        if let password = configuration.password {
            if let username = configuration.username {
                steps.append(connection.send(RedisCommand("AUTH", username, password), deadline: deadline))
            } else {
                steps.append(connection.send(RedisCommand("AUTH", password), deadline: deadline))
            }
        }
        if configuration.database != 0 {
            steps.append(connection.send(RedisCommand("SELECT", String(configuration.database)), deadline: deadline))
        }
        steps.append(connection.send(RedisCommand("PING"), deadline: deadline))
        if requireMaster {
            steps.append(connection.send(RedisCommand("ROLE"), deadline: deadline))
        }
        return EventLoopFuture.whenAllSucceed(steps, on: connection.eventLoop)
            .flatMapThrowing { replies in
                guard requireMaster, case let .array(role)? = replies.last else { return }
                guard role.first?.string == "master" else {
                    throw RedisClientError.handshake("Redis at \(target) is not the master (ROLE says \(role.first?.string ?? "nothing")); asking the Sentinels again")
                }
            }
            .flatMapErrorThrowing { error in
                guard let clientError = error as? RedisClientError else { throw error }
                if clientError.code == .serverError {
                    throw RedisClientError.handshake("Redis refused the connection set-up: \(clientError.detail)")
                }
                if configuration.tls && clientError.detail.contains("handshakeFailed") {
                    throw RedisClientError.handshake(
                        "the TLS handshake with Redis failed (does --redis-tls-ca-file name the CA of Redis's certificate, is the certificate for this host name, does Redis require a client certificate?): \(clientError.detail)"
                    )
                }
                if !configuration.tls && clientError.code == .protocolError {
                    throw RedisClientError.handshake("Redis's answer is not RESP (does it speak TLS only? then use a rediss:// URL): \(clientError.detail)")
                }
                throw error
            }
    }
}
