import DurableStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import RedisClient
import RedisStore
import RedisTLS
import SessionCore
import SessiondAPI
import HTTPTransport

/// The whole service built from a configuration: API keys and namespaces, event loops, stores,
/// HTTP server, run as one `ServiceGroup` that stops gracefully on SIGTERM and SIGINT. The
/// executable and the live tests build it the same way.
public struct Sessiond: Sendable {
    public let configuration: SessiondConfiguration
    private let onBound: @Sendable (SocketAddress) -> Void

    /// - Parameter onBound: called with the listening address (tests bind port 0).
    public init(configuration: SessiondConfiguration, onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }) {
        self.configuration = configuration
        self.onBound = onBound
    }

    /// Why `sessiond` refuses to start.
    public struct StartError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The TLS of Redis connections for a `rediss://` URL (its files read now), or nil.
    /// - Throws: `StartError` saying which file cannot be used and why.
    static func redisSecurity(_ configuration: SessiondConfiguration, logger: Logger) throws -> RedisTLS? {
        guard let settings = configuration.redisTLS else { return nil }
        if settings.insecure {
            logger.warning(
                "TLS to Redis without certificate verification (--redis-tls-insecure true): anyone between sessiond and Redis can read and change sessions; do not run this in production"
            )
        }
        do {
            return try RedisTLS(settings)
        } catch {
            throw StartError(description: error.description)
        }
    }

    /// Reads the API keys file, and refuses to serve without keys beyond loopback unless
    /// `--allow-unauthenticated` says so.
    /// - Returns: the keys, or nil to serve without them.
    /// - Throws: `StartError` saying what to fix.
    public static func loadKeys(_ configuration: SessiondConfiguration) throws -> APIKeys? {
        guard let path = configuration.apiKeysFile else {
            if !configuration.listensOnLoopbackOnly && !configuration.allowUnauthenticated {
                throw StartError(description: """
                    refusing to listen on \(configuration.host) without API keys: anyone who reaches it could read and \
                    write every session. Give --api-keys-file (lines of namespace:key), listen on 127.0.0.1, or pass \
                    --allow-unauthenticated true if something in front of sessiond authenticates callers
                    """)
            }
            return nil
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw StartError(description: "cannot read the API keys file \(path): \(error.localizedDescription)")
        }
        do {
            return try APIKeys.parse(text)
        } catch {
            throw StartError(description: "the API keys file \(path) is refused: \(error)")
        }
    }

    /// Opens the data directory (`--data-dir`) and recovers its sessions.
    /// - Throws: `StartError` with what to do, when the directory is in use, unreadable, of
    ///   another format version, or its snapshot is damaged.
    static func openDataDirectory(_ path: String, configuration: SessiondConfiguration, logger: Logger) throws -> DurableStorage {
        do {
            return try DurableStorage(path: path, policy: configuration.fsync, logger: Logger(label: "sessiond.durable-store"))
        } catch {
            throw StartError(description: error.description)
        }
    }

    /// Serves until a shutdown signal (or cancellation), then drains and returns.
    /// - Throws: `StartError` for a bad keys file or an open public address, or when the
    ///   address cannot be bound, or a service fails.
    public func run() async throws {
        let logger = Logger(label: "sessiond")
        let keys = try Self.loadKeys(configuration)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let metrics = SessiondMetrics()
        // Without keys one open namespace (""), stored as before; with keys, one per namespace.
        let namespaces = keys?.namespaces ?? [""]
        var stores: [String: any SessionStore] = [:]
        var storeServices: [any Service] = []
        switch configuration.store {
        case .memory:
            let durable = try configuration.dataDirectory.map { try Self.openDataDirectory($0, configuration: configuration, logger: logger) }
            // The durable store stops last (services stop in reverse order): after the server
            // drained, everything written is flushed and fsynced.
            if let durable { storeServices.append(durable) }
            // Namespaces found on disk without a key now are kept (unreachable) so that a
            // snapshot does not drop them.
            let unreachable = Set(durable?.recoveredNamespaces ?? []).subtracting(namespaces)
            if !unreachable.isEmpty {
                logger.warning(
                    "the data directory holds sessions of namespaces that have no API key now: they are kept, unreachable, until they expire",
                    metadata: ["namespaces": "\(unreachable.sorted().map { $0.isEmpty ? "(no keys)" : $0 })"]
                )
            }
            for namespace in namespaces + unreachable.sorted() {
                let memory = MemoryStore(
                    policy: configuration.lifetimes,
                    configuration: .init(
                        sweepInterval: configuration.sweepInterval, maxSessions: configuration.maxSessions, eventHistory: configuration.eventHistory
                    ),
                    logger: Logger(label: "sessiond.memory-store"),
                    journal: durable?.journal(for: namespace)
                )
                durable?.attach(memory, namespace: namespace)
                if namespaces.contains(namespace) { stores[namespace] = memory }
                storeServices.append(memory)
            }
            if let durable {
                logger.notice(
                    "using the data directory",
                    metadata: [
                        "data_dir": "\(durable.path)", "fsync": "\(durable.policy.rawValue)", "sessions": "\(durable.report.sessions)",
                        "records": "\(durable.report.records)", "dropped_bytes": "\(durable.report.bytesDropped)",
                        "recovery_ms": "\(Int64(durable.report.duration / .milliseconds(1)))",
                    ]
                )
            }
        case .redis:
            let security = try Self.redisSecurity(configuration, logger: logger)
            let pool = RedisStore.makePool(
                configuration: configuration.redis, security: security, group: group,
                observer: RedisClientMetrics(registry: metrics.registry), logger: Logger(label: "sessiond.redis")
            )
            var redisStores: [RedisStore] = []
            for namespace in namespaces {
                let prefix = namespace.isEmpty ? configuration.redisPrefix : configuration.redisPrefix + namespace + ":"
                let store = RedisStore(pool: pool, prefix: prefix, policy: configuration.lifetimes, eventHistory: configuration.eventHistory)
                stores[namespace] = store
                redisStores.append(store)
            }
            storeServices.append(pool)
            if configuration.eventHistory > 0 {
                // After the pool, so that it stops first on shutdown.
                storeServices.append(RedisExpiryRecorder(stores: redisStores, group: group, logger: Logger(label: "sessiond.events")))
            }
            logger.notice("using Redis", metadata: ["redis": "\(configuration.redis.redactedURL)", "prefix": "\(configuration.redisPrefix)"])
        }
        let services = stores.mapValues { store in
            SessionService(
                store: MeasuredStore(base: store, metrics: metrics), policy: configuration.lifetimes,
                maxSessionsPerSubject: configuration.maxSessionsPerSubject
            )
        }
        let application = Application(
            services: services, keys: keys, storeName: configuration.store.rawValue, limits: configuration.limits,
            metrics: metrics, metricsNeedKey: configuration.metricsNeedKey,
            eventStream: EventStreamSettings(consumerTimeout: configuration.eventConsumerTimeout),
            // One access line per request at info and below, rendered straight to bytes.
            accessLog: configuration.logLevel <= .info ? LineAccessLog(label: logger.label, format: configuration.logFormat) : nil,
            logger: logger
        )
        let server = HTTPServer(
            host: configuration.host, port: configuration.port, idleTimeout: configuration.idleTimeout,
            limits: .init(
                maxConnections: configuration.maxConnections, requestTimeout: configuration.requestTimeout,
                drainDelay: configuration.drainDelay, shutdownGrace: configuration.shutdownGrace
            ),
            responder: application, lifecycle: application.lifecycle,
            startupMetadata: [
                "store": "\(application.storeName)", "api_keys": "\(application.authentication)",
                "event_history": "\(configuration.eventHistory == 0 ? "off" : String(configuration.eventHistory))",
            ],
            group: group, logger: logger, onBound: onBound
        )
        // Shut down in reverse order: the server drains before the stores stop.
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: storeServices.map { .init(service: $0) } + [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await serviceGroup.run()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        logger.notice("sessiond stopped")
    }
}
