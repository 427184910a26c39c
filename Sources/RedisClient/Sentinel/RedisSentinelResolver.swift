import NIOCore

/// Finds the current master through the Sentinels, as Redis's Sentinel client protocol says:
/// ask each Sentinel in turn for the master's address (`SENTINEL get-master-addr-by-name`),
/// and take the first answer. The caller then connects there and checks `ROLE`.
public struct RedisSentinelResolver: Sendable {
    public let sentinel: RedisSentinelConfiguration
    /// For the Sentinel connections: the timeouts, and TLS when the data connections use it.
    private let base: RedisConfiguration
    private let security: (any RedisChannelSecurity)?

    public init(sentinel: RedisSentinelConfiguration, base: RedisConfiguration, security: (any RedisChannelSecurity)?) {
        self.sentinel = sentinel
        self.base = base
        self.security = security
    }

    /// The master's address.
    /// - Returns: host and port. Fails with `.notConnected` naming every Sentinel's failure when
    ///   none knows the master.
    public func resolve(on eventLoop: any EventLoop) -> EventLoopFuture<(host: String, port: Int)> {
        ask(0, failures: [], on: eventLoop)
    }

    private func ask(_ index: Int, failures: [String], on eventLoop: any EventLoop) -> EventLoopFuture<(host: String, port: Int)> {
        guard index < sentinel.nodes.count else {
            return eventLoop.makeFailedFuture(RedisClientError.notConnected(
                "no Sentinel gave the address of master \(sentinel.masterName): \(failures.joined(separator: "; "))"
            ))
        }
        let node = sentinel.nodes[index]
        var configuration = base
        configuration.host = node.host
        configuration.port = node.port
        configuration.username = sentinel.username
        configuration.password = sentinel.password
        configuration.database = 0
        let masterName = sentinel.masterName
        return RedisConnection.connect(configuration, security: security, on: eventLoop).flatMap { connection in
            let deadline = eventLoop.now + configuration.commandTimeout
            return connection.send(RedisCommand("SENTINEL", "get-master-addr-by-name", masterName), deadline: deadline)
                .always { _ in _ = connection.close() }
        }
        .flatMapThrowing { reply -> (host: String, port: Int) in
            guard case let .array(parts) = reply, parts.count == 2, let host = parts[0].string, let port = parts[1].int,
                  !host.isEmpty, (1...65_535).contains(port)
            else { throw RedisClientError.notConnected("Sentinel \(node) does not know master \(masterName)") }
            return (host, Int(port))
        }
        .flatMapError { error in
            let reason = (error as? RedisClientError)?.detail ?? "\(error)"
            return self.ask(index + 1, failures: failures + ["\(node): \(reason)"], on: eventLoop)
        }
    }
}
