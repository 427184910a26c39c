import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import RedisClient
import RedisStore
import SessionCore

/// The whole service built from a configuration: event loops, store, HTTP server, run as one
/// `ServiceGroup` that stops gracefully on SIGTERM and SIGINT. The executable and the live tests
/// build it the same way.
public struct Sessiond: Sendable {
    public let configuration: SessiondConfiguration
    private let onBound: @Sendable (SocketAddress) -> Void

    /// - Parameter onBound: called with the listening address (tests bind port 0).
    public init(configuration: SessiondConfiguration, onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }) {
        self.configuration = configuration
        self.onBound = onBound
    }

    /// Serves until a shutdown signal (or cancellation), then drains and returns.
    /// - Throws: when the address cannot be bound, or a service fails.
    public func run() async throws {
        let logger = Logger(label: "sessiond")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let store: any SessionStore
        let storeService: any Service
        switch configuration.store {
        case .memory:
            let memory = MemoryStore(
                policy: configuration.lifetimes,
                configuration: .init(sweepInterval: configuration.sweepInterval),
                logger: Logger(label: "sessiond.memory-store")
            )
            (store, storeService) = (memory, memory)
        case .redis:
            let redis = RedisStore(
                configuration: configuration.redis, prefix: configuration.redisPrefix, policy: configuration.lifetimes,
                group: group, logger: Logger(label: "sessiond.redis")
            )
            (store, storeService) = (redis, redis.pool)
            logger.notice("using Redis", metadata: ["redis": "\(configuration.redis.redactedURL)", "prefix": "\(configuration.redisPrefix)"])
        }
        let application = Application(
            service: SessionService(store: store, policy: configuration.lifetimes),
            storeName: configuration.store.rawValue, limits: configuration.limits, logger: logger
        )
        let server = HTTPServer(
            host: configuration.host, port: configuration.port, idleTimeout: configuration.idleTimeout,
            application: application, group: group, logger: logger, onBound: onBound
        )
        // Shut down in reverse order: the server drains before the store stops.
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: storeService), .init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await services.run()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        logger.notice("sessiond stopped")
    }
}
