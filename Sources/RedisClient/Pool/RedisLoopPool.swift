import Logging
import NIOCore

/// The connections of one event loop, driven by a `RedisLoopPoolStateMachine`. All state is
/// touched on that loop only, so a command from a request handler on the loop needs no lock and
/// no thread hop; this type only turns the machine's actions into sockets, promises and timers,
/// and logs the transitions an operator needs (Redis lost, Redis back).
final class RedisLoopPool: @unchecked Sendable {
    // @unchecked: every mutable property is confined to `eventLoop` (checked in debug builds).
    private struct Waiting {
        let command: RedisCommand
        let deadline: NIODeadline
        let promise: EventLoopPromise<RESPValue>
        let asking: Bool
    }

    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    /// The node this pool connects to instead of the configuration's host and port (a cluster
    /// node), or nil.
    let node: RedisNodeAddress?
    private let security: (any RedisChannelSecurity)?
    private let logger: Logger
    private var machine: RedisLoopPoolStateMachine
    private var waiting: [RedisLoopPoolStateMachine.RequestID: Waiting] = [:]
    private var connections: [Int: (attempt: UInt64, connection: RedisConnection)] = [:]
    private var nextRequest: RedisLoopPoolStateMachine.RequestID = 0
    private var tick: Scheduled<Void>?
    private var failing = false
    private var closed = false
    /// Why the last attempt to connect failed, for the errors of the requests that wait in vain.
    private var lastConnectError: (any Error)?

    init(
        eventLoop: any EventLoop, configuration: RedisConfiguration, node: RedisNodeAddress? = nil, security: (any RedisChannelSecurity)?,
        logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.node = node
        self.security = security
        self.logger = logger
        self.machine = RedisLoopPoolStateMachine(configuration: .init(
            slots: configuration.connectionsPerLoop, maxInFlight: configuration.maxInFlightPerConnection,
            maxQueued: configuration.maxWaitingPerLoop, maxBackoff: configuration.maxBackoff
        ))
    }

    /// Sends `command` (right after `ASKING` on the same connection when `asking`), to be
    /// answered by `deadline`. Must be called on `eventLoop`.
    /// - Returns: the reply; fails with `RedisClientError`: `.timeout` past the deadline,
    ///   `.notConnected` when Redis cannot be reached in time, `.overloaded` when too many
    ///   requests wait, or the connection's own failures.
    func send(_ command: RedisCommand, deadline: NIODeadline, asking: Bool = false) -> EventLoopFuture<RESPValue> {
        eventLoop.preconditionInEventLoop()
        let promise = eventLoop.makePromise(of: RESPValue.self)
        nextRequest &+= 1
        let id = nextRequest
        waiting[id] = Waiting(command: command, deadline: deadline, promise: promise, asking: asking)
        run(machine.request(id, deadline: deadline, now: eventLoop.now))
        return promise.futureResult
    }

    /// Closes every connection; waiting and later commands fail. Call on `eventLoop`.
    func close() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        closed = true
        let open = connections.values.map(\.connection)
        run(machine.shutdown())
        return EventLoopFuture.andAllComplete(open.map { $0.close() }, on: eventLoop)
    }

    // MARK: - Actions

    private func run(_ actions: [RedisLoopPoolStateMachine.Action]) {
        for action in actions {
            switch action {
            case let .send(id, slot, attempt):
                guard let request = waiting.removeValue(forKey: id) else { continue }
                guard let (current, connection) = connections[slot], current == attempt else {
                    request.promise.fail(RedisClientError.connectionClosed("the connection to Redis closed"))
                    continue
                }
                connection.send(request.command, deadline: request.deadline, promise: request.promise, asking: request.asking)
                request.promise.futureResult.whenComplete { result in
                    if case let .failure(error) = result, (error as? RedisClientError)?.detail.hasPrefix("READONLY") == true {
                        // A replica now (a failover): drop the connection, so the next one asks
                        // the Sentinels where the master is (on a cluster, the router refreshes
                        // its map).
                        self.logger.warning("Redis answered READONLY: it is a replica now; reconnecting to the master", metadata: ["redis": "\(self.target)"])
                        _ = connection.close()
                    }
                    self.run(self.machine.completed(slot: slot, attempt: attempt, now: self.eventLoop.now))
                }
            case let .connect(slot, attempt):
                connect(slot: slot, attempt: attempt)
            case let .fail(ids, failure):
                let error = self.error(for: failure)
                for id in ids { waiting.removeValue(forKey: id)?.promise.fail(error) }
            case let .scheduleTick(at):
                tick?.cancel()
                tick = eventLoop.scheduleTask(deadline: at) {
                    self.tick = nil
                    self.run(self.machine.tick(now: self.eventLoop.now))
                }
            case .closeAll:
                tick?.cancel()
                tick = nil
                for (_, entry) in connections { _ = entry.connection.close() }
            }
        }
    }

    /// Closes every open connection (the master moved): each reopens, asking the Sentinels
    /// again, when the next command comes. Call on `eventLoop`.
    func reconnectAll() {
        eventLoop.preconditionInEventLoop()
        for (_, entry) in connections { _ = entry.connection.close() }
    }

    /// Opens the connection of `slot`: at the configured address, or at the master that the
    /// Sentinels name (checked with ROLE).
    private func open(onWritabilityChange: @escaping @Sendable (Bool) -> Void) -> EventLoopFuture<RedisConnection> {
        let configuration = self.configuration
        let security = self.security
        let loop = eventLoop
        if let node {
            return RedisConnection.connect(
                configuration, address: (node.host, node.port), security: security, on: loop, onWritabilityChange: onWritabilityChange
            )
        }
        guard let sentinel = configuration.sentinel else {
            return RedisConnection.connect(configuration, security: security, on: loop, onWritabilityChange: onWritabilityChange)
        }
        let resolver = RedisSentinelResolver(sentinel: sentinel, base: configuration, security: security)
        return resolver.resolve(on: loop).flatMap { address in
            RedisConnection.connect(
                configuration, address: address, requireMaster: true, security: security, on: loop, onWritabilityChange: onWritabilityChange
            )
        }
    }

    private func connect(slot: Int, attempt: UInt64) {
        let loop = eventLoop
        let onWritabilityChange: @Sendable (Bool) -> Void = { writable in
            loop.assertInEventLoop()
            self.run(self.machine.writabilityChanged(slot: slot, attempt: attempt, writable: writable, now: self.eventLoop.now))
        }
        open(onWritabilityChange: onWritabilityChange).whenComplete { result in
            self.eventLoop.preconditionInEventLoop()
            switch result {
            case let .success(connection):
                self.connections[slot] = (attempt, connection)
                self.lastConnectError = nil
                if self.failing {
                    self.failing = false
                    self.logger.notice("connected to Redis again", metadata: ["redis": "\(self.target)"])
                }
                connection.channel.closeFuture.whenComplete { _ in
                    if let current = self.connections[slot], current.attempt == attempt { self.connections[slot] = nil }
                    let before = self.machine.isFailing
                    self.run(self.machine.connectionClosed(slot: slot, attempt: attempt, now: self.eventLoop.now))
                    if !before && !self.closed {
                        self.logger.warning("connection to Redis lost; reopening it when the next command comes", metadata: ["redis": "\(self.target)"])
                    }
                }
                self.run(self.machine.connected(slot: slot, attempt: attempt, now: self.eventLoop.now))
            case let .failure(error):
                self.lastConnectError = error
                if !self.failing {
                    self.failing = true
                    self.logger.error("cannot use Redis", metadata: ["redis": "\(self.target)", "error": "\(error)"])
                }
                self.run(self.machine.connectFailed(slot: slot, attempt: attempt, now: self.eventLoop.now))
            }
        }
    }

    /// What logs name: the cluster node, or the URL without its password.
    private var target: String { node.map { "cluster node \($0)" } ?? configuration.redactedURL }

    private func error(for failure: RedisLoopPoolStateMachine.Failure) -> RedisClientError {
        let target = "Redis at \(node?.description ?? "\(configuration.host):\(configuration.port)")"
        let why = lastConnectError.map { error in
            " (last attempt: \((error as? RedisClientError)?.detail ?? "\(error)"))"
        } ?? ""
        switch failure {
        case .timeout: return .timeout("no connection to \(target) came up in time\(why)")
        case .notConnected: return .notConnected("\(target) is unreachable\(why); retrying")
        case .overloaded: return .overloaded("too many commands wait for a connection to \(target)")
        case .shutDown: return .notConnected("the Redis pool is closed")
        }
    }
}
