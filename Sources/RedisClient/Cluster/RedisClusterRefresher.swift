import Logging
import NIOCore

/// Reads the map of a Redis Cluster's slots (`CLUSTER SLOTS`) and hands it to every event
/// loop's router. Reads on request (no map yet, `MOVED`, a node unreachable, `CLUSTERDOWN`),
/// at most once per `minRefreshInterval`; requests that come during a read make one more read
/// after it. Asks every known node (primaries, replicas, then the seeds) at once on a short-lived
/// connection of its own, and takes the first answer that covers every slot (else the first
/// answer). Every mutable property is confined to `eventLoop`.
final class RedisClusterRefresher: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let cluster: RedisClusterConfiguration
    private let configuration: RedisConfiguration
    private let security: (any RedisChannelSecurity)?
    private let observer: (any RedisClientObserver)?
    private let logger: Logger
    private var routers: [RedisClusterRouter] = []
    private var known: RedisClusterTopology?
    private var reading = false
    private var again = false
    private var lastRead: NIODeadline?
    private var scheduled: Scheduled<Void>?
    private var failing = false
    private var stopped = false

    init(
        eventLoop: any EventLoop, cluster: RedisClusterConfiguration, configuration: RedisConfiguration, security: (any RedisChannelSecurity)?,
        observer: (any RedisClientObserver)?, logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.cluster = cluster
        self.configuration = configuration
        self.security = security
        self.observer = observer
        self.logger = logger
    }

    /// The routers that get each new map. Call once, before the first `request`.
    func attach(_ routers: [RedisClusterRouter]) {
        self.routers = routers
    }

    /// Asks for a new map soon (from any thread).
    func request() {
        if eventLoop.inEventLoop {
            readSoon()
        } else {
            eventLoop.execute { self.readSoon() }
        }
    }

    /// Stops reading; a read under way is dropped.
    func stop() -> EventLoopFuture<Void> {
        eventLoop.submit {
            self.stopped = true
            self.scheduled?.cancel()
            self.scheduled = nil
        }
    }

    private func readSoon() {
        guard !stopped else { return }
        if reading {
            again = true
            return
        }
        guard scheduled == nil else { return }
        if let lastRead, eventLoop.now < lastRead + cluster.minRefreshInterval {
            scheduled = eventLoop.scheduleTask(deadline: lastRead + cluster.minRefreshInterval) {
                self.scheduled = nil
                self.read()
            }
            return
        }
        read()
    }

    private func read() {
        guard !stopped else { return }
        reading = true
        lastRead = eventLoop.now
        var candidates: [RedisNodeAddress] = []
        for node in (known?.primaries ?? []) + (known?.replicas ?? []) + cluster.seeds where !candidates.contains(node) {
            candidates.append(node)
        }
        let deadline = eventLoop.now + configuration.connectTimeout + configuration.commandTimeout
        let answers = candidates.map { node in ask(node, deadline: deadline) }
        firstCovering(answers).whenComplete { result in
            self.reading = false
            guard !self.stopped else { return }
            switch result {
            case let .success(topology):
                self.take(topology)
            case let .failure(error):
                if !self.failing {
                    self.failing = true
                    self.logger.error(
                        "cannot read the map of the Redis Cluster from any node; retrying when a command needs it",
                        metadata: ["redis": "\(self.configuration.redactedURL)", "error": "\(error)"]
                    )
                }
            }
            if self.again {
                self.again = false
                self.readSoon()
            }
        }
    }

    private func take(_ topology: RedisClusterTopology) {
        observer?.topologyRefreshed()
        if failing {
            failing = false
            logger.notice("read the map of the Redis Cluster again", metadata: ["redis": "\(configuration.redactedURL)"])
        }
        if let known {
            for node in known.primariesReplaced(in: topology) {
                observer?.failedOver(from: node.description)
                logger.warning(
                    "Redis Cluster node \(node) serves no slot any more (a failover, or its slots moved); following the new map",
                    metadata: ["primaries": "\(topology.primaries.filter(topology.servesSlots).map(\.description).joined(separator: ","))"]
                )
            }
        } else {
            logger.notice(
                "read the map of the Redis Cluster",
                metadata: [
                    "primaries": "\(topology.primaries.filter(topology.servesSlots).map(\.description).joined(separator: ","))",
                    "all_slots_served": "\(topology.coversAllSlots)",
                ]
            )
        }
        if !topology.coversAllSlots && (known?.coversAllSlots ?? true) {
            logger.error("some slots of the Redis Cluster have no primary: their sessions cannot be reached (is the cluster complete?)")
        }
        known = topology
        for router in routers {
            router.eventLoop.execute { router.apply(topology) }
        }
    }

    /// `CLUSTER SLOTS` from `node`, on a connection of its own.
    private func ask(_ node: RedisNodeAddress, deadline: NIODeadline) -> EventLoopFuture<RedisClusterTopology> {
        let loop = eventLoop
        return RedisConnection.connect(configuration, address: (node.host, node.port), security: security, on: loop)
            .flatMap { connection in
                connection.send(RedisCommand("CLUSTER", "SLOTS"), deadline: deadline).always { _ in _ = connection.close() }
            }
            .flatMapThrowing { reply in
                guard let topology = RedisClusterTopology(clusterSlots: reply, answeredBy: node), !topology.primaries.isEmpty else {
                    throw RedisClientError.protocolError("\(node) gave no usable answer to CLUSTER SLOTS (is it a cluster node?)")
                }
                return topology
            }
            .flatMapErrorThrowing { error in
                let detail = (error as? RedisClientError)?.detail ?? "\(error)"
                throw RedisClientError.notConnected("\(node): \(detail)")
            }
    }

    /// The first answer that covers every slot; when none does, the first answer; when there is
    /// none, a failure naming every node's error.
    private func firstCovering(_ answers: [EventLoopFuture<RedisClusterTopology>]) -> EventLoopFuture<RedisClusterTopology> {
        let promise = eventLoop.makePromise(of: RedisClusterTopology.self)
        guard !answers.isEmpty else {
            promise.fail(RedisClientError.notConnected("no Redis Cluster node to ask"))
            return promise.futureResult
        }
        struct Gathered {
            var done = false
            var partial: RedisClusterTopology?
            var failures: [String] = []
            var remaining: Int
        }
        let state = NIOLoopBoundBox(Gathered(remaining: answers.count), eventLoop: eventLoop)
        for answer in answers {
            answer.hop(to: eventLoop).whenComplete { result in
                state.value.remaining -= 1
                switch result {
                case let .success(topology):
                    if topology.coversAllSlots, !state.value.done {
                        state.value.done = true
                        promise.succeed(topology)
                    } else if state.value.partial == nil {
                        state.value.partial = topology
                    }
                case let .failure(error):
                    state.value.failures.append((error as? RedisClientError)?.detail ?? "\(error)")
                }
                guard state.value.remaining == 0, !state.value.done else { return }
                state.value.done = true
                if let partial = state.value.partial {
                    promise.succeed(partial)
                } else {
                    promise.fail(RedisClientError.notConnected(state.value.failures.joined(separator: "; ")))
                }
            }
        }
        return promise.futureResult
    }
}
