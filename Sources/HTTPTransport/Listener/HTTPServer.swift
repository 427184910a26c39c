import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The listening socket as a swift-service-lifecycle `Service`: binds and serves until graceful
/// shutdown. Then `/readyz` answers 503 at once; after `drainDelay` the listener closes, idle
/// keep-alive connections are closed, requests in flight finish, and it returns when every
/// connection is closed, or after `shutdownGrace` (the event loops' shutdown then closes the
/// rest).
package final class HTTPServer<Responder: HTTPResponder>: Service {
    /// Limits on connections and on the server's shutdown.
    package struct Limits: Sendable {
        /// Connections beyond this many are closed as soon as they are accepted.
        package var maxConnections: Int
        /// How long a client may take to send a whole request, from its first byte (408 after).
        package var requestTimeout: TimeAmount
        package var drainDelay: Duration
        package var shutdownGrace: Duration

        package init(
            maxConnections: Int = 10_000, requestTimeout: TimeAmount = .seconds(30), drainDelay: Duration = .zero,
            shutdownGrace: Duration = .seconds(25)
        ) {
            self.maxConnections = maxConnections
            self.requestTimeout = requestTimeout
            self.drainDelay = drainDelay
            self.shutdownGrace = shutdownGrace
        }
    }

    package let host: String
    package let port: Int
    /// Connections that send nothing for this long are closed (slow or idle clients).
    package let idleTimeout: TimeAmount
    package let limits: Limits
    private let responder: Responder
    private let lifecycle: ServerLifecycle
    private let startupMetadata: Logger.Metadata
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onBound: @Sendable (SocketAddress) -> Void

    /// - Parameters:
    ///   - responder: answers the requests.
    ///   - lifecycle: set to draining when graceful shutdown begins (`/readyz` reads it).
    ///   - startupMetadata: added to the "listening" log line (the store, the keys).
    ///   - onBound: called with the bound address once listening (tests bind port 0).
    package init(
        host: String, port: Int, idleTimeout: TimeAmount = .seconds(60), limits: Limits = .init(), responder: Responder,
        lifecycle: ServerLifecycle, startupMetadata: Logger.Metadata = [:], group: any EventLoopGroup, logger: Logger,
        onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.idleTimeout = idleTimeout
        self.limits = limits
        self.responder = responder
        self.lifecycle = lifecycle
        self.startupMetadata = startupMetadata
        self.group = group
        self.logger = logger
        self.onBound = onBound
    }

    package func run() async throws {
        let quiesce = ServerQuiescingHelper(group: group)
        let responder = self.responder
        let logger = self.logger
        let idleTimeout = self.idleTimeout
        let limits = self.limits
        let open = ConnectionCount()
        // Out of descriptors, waiting connections are shed instead of retried in a busy loop.
        let reserve = DescriptorReserve(logger: logger)
        DescriptorLimit.warnIfBelow(connections: limits.maxConnections, logger: logger)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorHandler(reserve: reserve))
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelInitializer { channel in
                if reserve.shouldShed() { return channel.close() }
                guard open.admit(channel, limit: limits.maxConnections) else {
                    // Once per episode: a client opening connections in a loop must not flood the log.
                    if open.refuse() == 1 {
                        logger.warning("connections refused: --max-connections reached", metadata: ["limit": "\(limits.maxConnections)"])
                    }
                    return channel.close()
                }
                if let refused = open.endRefusals() {
                    logger.notice("accepting connections again", metadata: ["refused": "\(refused)"])
                }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.addHandler(HTTPConnectionHandler(responder: responder, requestTimeout: limits.requestTimeout, logger: logger))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // What one connection may hold: a read brings at most 4 x 64 KiB, and a connection
            // whose answers pile up past 64 KiB unsent is not read from (HTTPConnectionHandler).
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 65_536))
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 64 * 1024))
            .bind(host: host, port: port)
            .get()

        guard let address = channel.localAddress else {
            throw ChannelError.inappropriateOperationForState
        }
        var metadata = startupMetadata
        metadata["address"] = "\(address.ipAddress ?? host):\(address.port ?? port)"
        logger.notice("sessiond listening", metadata: metadata)
        onBound(address)

        // `quiesced` is the quiescing helper's; `finished` completes once, with true when every
        // connection closed, or false when the grace period ran out first.
        let quiesced = channel.eventLoop.makePromise(of: Void.self)
        let finished = channel.eventLoop.makePromise(of: Bool.self)
        let outcome = NIOLockedValueBox<Bool?>(nil)
        @Sendable func finish(_ allClosed: Bool) {
            guard outcome.withLockedValue({ value in defer { value = value ?? allClosed }; return value == nil }) else { return }
            finished.succeed(allClosed)
        }
        quiesced.futureResult.whenComplete { _ in finish(true) }
        let initiated = NIOLockedValueBox(false)
        @Sendable func drain() {
            // The quiescing helper must be given its promise once only.
            guard initiated.withLockedValue({ wasInitiated in defer { wasInitiated = true }; return !wasInitiated }) else { return }
            logger.notice("draining: no new connections, finishing requests in flight")
            quiesce.initiateShutdown(promise: quiesced)
        }
        let lifecycle = self.lifecycle
        let drainDelay = limits.drainDelay
        let grace = limits.shutdownGrace
        let eventLoop = channel.eventLoop
        @Sendable func beginShutdown(after delay: Duration) {
            guard !lifecycle.isDraining else { return }
            lifecycle.beginDraining()
            logger.notice("shutting down: /readyz answers 503", metadata: ["drain_delay": "\(delay)"])
            eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)) {
                drain()
            }
            let total = delay + grace
            eventLoop.scheduleTask(in: .nanoseconds(Int64(total.components.seconds) * 1_000_000_000 + total.components.attoseconds / 1_000_000_000)) {
                finish(false)
            }
        }
        let allClosed = try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await finished.futureResult.get()
            } onGracefulShutdown: {
                beginShutdown(after: drainDelay)
            }
        } onCancel: {
            lifecycle.beginDraining()
            drain()
            finish(false)
        }
        if allClosed {
            logger.notice("all connections closed")
        } else {
            logger.warning("shutdown grace period over: closing the connections still open", metadata: ["open": "\(open.count)"])
        }
    }
}

/// The open client connections, for `--max-connections`.
final class ConnectionCount: Sendable {
    private let open = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    /// Counts a connection refused for the limit; returns how many were refused in this
    /// episode, this one included.
    func refuse() -> Int { refused.add(1, ordering: .relaxed).newValue }

    /// After a connection was admitted: how many were refused since the last one admitted, or
    /// nil when none were.
    func endRefusals() -> Int? {
        guard refused.load(ordering: .relaxed) > 0 else { return nil }
        let count = refused.exchange(0, ordering: .relaxed)
        return count > 0 ? count : nil
    }

    var count: Int { open.load(ordering: .relaxed) }

    /// Counts `channel` while it is open; false (and not counted) when `limit` are open already.
    func admit(_ channel: any Channel, limit: Int) -> Bool {
        guard open.add(1, ordering: .relaxed).oldValue < limit else {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        channel.closeFuture.whenComplete { _ in self.open.subtract(1, ordering: .relaxed) }
        return true
    }
}
