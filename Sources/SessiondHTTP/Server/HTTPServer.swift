import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The listening socket as a swift-service-lifecycle `Service`: binds, serves until graceful
/// shutdown, then stops accepting, lets in-flight requests finish (idle keep-alive connections
/// are closed at once) and returns when every connection is closed.
public final class HTTPServer: Service {
    public let host: String
    public let port: Int
    /// Connections that send nothing for this long are closed (slow or idle clients).
    public let idleTimeout: TimeAmount
    private let application: Application
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onBound: @Sendable (SocketAddress) -> Void

    /// - Parameter onBound: called with the bound address once listening (tests bind port 0).
    public init(
        host: String, port: Int, idleTimeout: TimeAmount = .seconds(60), application: Application,
        group: any EventLoopGroup, logger: Logger, onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.idleTimeout = idleTimeout
        self.application = application
        self.group = group
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let quiesce = ServerQuiescingHelper(group: group)
        let application = self.application
        let logger = self.logger
        let idleTimeout = self.idleTimeout
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    // Outbound header validation is off: every response header is made here from
                    // validated values (digits, canonical sids, fixed names), never from client text.
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true, withOutboundHeaderValidation: false)
                    try pipeline.addHandler(HTTPRequestHandler(application: application, logger: logger))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: host, port: port)
            .get()

        guard let address = channel.localAddress else {
            throw ChannelError.inappropriateOperationForState
        }
        logger.notice(
            "sessiond listening",
            metadata: ["address": "\(address.ipAddress ?? host):\(address.port ?? port)", "store": "\(application.storeName)"]
        )
        onBound(address)

        let drained = channel.eventLoop.makePromise(of: Void.self)
        let initiated = NIOLockedValueBox(false)
        @Sendable func drain() {
            // The quiescing helper must be given its promise once only.
            guard initiated.withLockedValue({ wasInitiated in defer { wasInitiated = true }; return !wasInitiated }) else { return }
            logger.notice("draining: no new connections, finishing requests in flight")
            quiesce.initiateShutdown(promise: drained)
        }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await drained.futureResult.get()
            } onGracefulShutdown: {
                drain()
            }
        } onCancel: {
            drain()
        }
        logger.notice("all connections closed")
    }
}
