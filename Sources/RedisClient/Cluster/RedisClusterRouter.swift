import Logging
import NIOCore

/// One event loop's way into a Redis Cluster: its own copy of the slot map, and a
/// `RedisLoopPool` per node it has sent to (so a command never leaves its loop). A command goes
/// to the primary of its key's slot; what happens after a node fails it is
/// `RedisClusterRetryPolicy`'s decision. Every mutable property is confined to `eventLoop`.
final class RedisClusterRouter: RedisLoopSender, @unchecked Sendable {
    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let security: (any RedisChannelSecurity)?
    private let logger: Logger
    private let policy: RedisClusterRetryPolicy
    private let observer: (any RedisClientObserver)?
    private let refresher: RedisClusterRefresher
    private var topology: RedisClusterTopology?
    private var pools: [RedisNodeAddress: RedisLoopPool] = [:]
    private var latencies: [RedisNodeAddress: any RedisLatencyRecorder] = [:]
    private var closed = false

    init(
        eventLoop: any EventLoop, configuration: RedisConfiguration, cluster: RedisClusterConfiguration, security: (any RedisChannelSecurity)?,
        refresher: RedisClusterRefresher, observer: (any RedisClientObserver)?, logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.security = security
        self.refresher = refresher
        self.observer = observer
        self.logger = logger
        self.policy = RedisClusterRetryPolicy(maxRedirects: cluster.maxRedirects)
    }

    /// Sends `command` to the primary of `key`'s slot (any primary when `key` is nil), following
    /// redirects and retrying what did not run, until `deadline`. Call on `eventLoop`.
    /// - Returns: the reply; fails with the last `RedisClientError`.
    func send(_ command: RedisCommand, key: ByteBuffer?, deadline: NIODeadline) -> EventLoopFuture<RESPValue> {
        let slot = key.map { RedisClusterSlot.of($0.readableBytesView) }
        return attempt(command, slot: slot, redirect: nil, redirects: 0, retries: 0, deadline: deadline)
    }

    /// Succeeds when every slot has a primary in this loop's map and every primary answers
    /// PING by `deadline`; else fails naming what is missing (and asks for a new map).
    /// Waits (until `deadline`) for the first map when there is none yet.
    func checkReady(deadline: NIODeadline) -> EventLoopFuture<Void> {
        checkReady(deadline: deadline, retries: 0)
    }

    private func checkReady(deadline: NIODeadline, retries: Int) -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        guard let topology, topology.coversAllSlots else {
            refresher.request()
            let pause = policy.pause(after: retries)
            if topology == nil, eventLoop.now + pause < deadline {
                return eventLoop.scheduleTask(in: pause) {}.futureResult.flatMap {
                    self.checkReady(deadline: deadline, retries: retries + 1)
                }
            }
            let why = topology == nil ? "no map of the cluster's slots yet (no node answered CLUSTER SLOTS)" : "some slots of the cluster have no primary"
            return eventLoop.makeFailedFuture(RedisClientError.notConnected("Redis Cluster: \(why)"))
        }
        let pings = topology.primaries.filter(topology.servesSlots).map { node in
            pool(for: node).send(RedisCommand("PING"), deadline: deadline)
        }
        return EventLoopFuture.whenAllSucceed(pings, on: eventLoop)
            .map { _ in }
            .flatMapError { error in
                self.refresher.request()
                return self.eventLoop.makeFailedFuture(error)
            }
    }

    /// Takes a newly read map; pools of nodes that serve no slot any more close after the
    /// commands still in flight on them have had their time.
    func apply(_ newer: RedisClusterTopology) {
        eventLoop.preconditionInEventLoop()
        topology = newer
        let grace = configuration.commandTimeout + configuration.commandTimeout
        for node in pools.keys where !newer.servesSlots(node) {
            eventLoop.scheduleTask(in: grace) {
                guard !(self.topology?.servesSlots(node) ?? false), let pool = self.pools.removeValue(forKey: node) else { return }
                _ = pool.close()
            }
        }
    }

    func close() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        closed = true
        let open = Array(pools.values)
        pools = [:]
        return EventLoopFuture.andAllComplete(open.map { $0.close() }, on: eventLoop)
    }

    // MARK: - Sending

    private func attempt(
        _ command: RedisCommand, slot: Int?, redirect: (node: RedisNodeAddress, asking: Bool)?, redirects: Int, retries: Int,
        deadline: NIODeadline
    ) -> EventLoopFuture<RESPValue> {
        guard !closed else { return eventLoop.makeFailedFuture(RedisClientError.notConnected("the Redis pool is closed")) }
        guard let node = redirect?.node ?? primary(for: slot) else {
            let why = topology == nil
                ? "no map of the Redis Cluster's slots yet (no node answered CLUSTER SLOTS)"
                : "no primary of the Redis Cluster serves slot \(slot.map(String.init) ?? "any")"
            return failed(RedisClientError.notConnected(why), command, from: nil, slot: slot, redirects: redirects, retries: retries, deadline: deadline)
        }
        let sent = pool(for: node).send(command, deadline: deadline, asking: redirect?.asking ?? false)
        if let recorder = latency(of: node) {
            let start = NIODeadline.now()
            sent.whenComplete { _ in recorder.record(.nanoseconds(Int64((NIODeadline.now() - start).nanoseconds))) }
        }
        return sent.flatMapError { error in
            self.failed(error, command, from: node, slot: slot, redirects: redirects, retries: retries, deadline: deadline)
        }
    }

    private func failed(
        _ error: any Error, _ command: RedisCommand, from node: RedisNodeAddress?, slot: Int?, redirects: Int, retries: Int,
        deadline: NIODeadline
    ) -> EventLoopFuture<RESPValue> {
        guard let clientError = error as? RedisClientError else { return eventLoop.makeFailedFuture(error) }
        let decision = policy.decide(
            clientError, from: node, redirects: redirects, retries: retries, now: eventLoop.now, deadline: deadline
        )
        switch decision {
        case let .redirect(target, asking, movedSlot):
            observer?.redirected(ask: asking)
            if let movedSlot {
                topology?.assign(movedSlot...movedSlot, to: target)
                refresher.request()
            }
            return attempt(command, slot: slot, redirect: (target, asking), redirects: redirects + 1, retries: retries, deadline: deadline)
        case let .retry(pause, refresh):
            if refresh { refresher.request() }
            return eventLoop.scheduleTask(in: pause) {}.futureResult.flatMap {
                self.attempt(command, slot: slot, redirect: nil, redirects: redirects, retries: retries + 1, deadline: deadline)
            }
        case let .fail(refresh):
            if refresh { refresher.request() }
            return eventLoop.makeFailedFuture(clientError)
        }
    }

    private func primary(for slot: Int?) -> RedisNodeAddress? {
        guard let topology else {
            refresher.request()
            return nil
        }
        guard let slot else { return topology.primaries.first(where: topology.servesSlots) }
        return topology.primary(for: slot)
    }

    private func pool(for node: RedisNodeAddress) -> RedisLoopPool {
        if let pool = pools[node] { return pool }
        let pool = RedisLoopPool(eventLoop: eventLoop, configuration: configuration, node: node, security: security, logger: logger)
        pools[node] = pool
        return pool
    }

    private func latency(of node: RedisNodeAddress) -> (any RedisLatencyRecorder)? {
        guard let observer else { return nil }
        if let recorder = latencies[node] { return recorder }
        let recorder = observer.latency(of: node)
        latencies[node] = recorder
        return recorder
    }
}
