import Logging
import NIOCore
import NIOPosix

/// Listens on a Sentinel for `+switch-master` of our master, so that sessiond moves to the new
/// master as soon as the Sentinels promote it, before a command fails on the old one. Asks the
/// Sentinels in turn; when its subscription drops, it opens a new one after a pause.
final class RedisSentinelWatcher: @unchecked Sendable {
    // @unchecked: `channel` and `stopped` are touched on `eventLoop` only.
    private let sentinel: RedisSentinelConfiguration
    private let base: RedisConfiguration
    private let security: (any RedisChannelSecurity)?
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let onSwitch: @Sendable (String) -> Void
    private var channel: (any Channel)?
    private var stopped = false
    private var next = 0

    /// - Parameter onSwitch: called with the old master's `host:port` when the Sentinels switch it.
    init(
        sentinel: RedisSentinelConfiguration, base: RedisConfiguration, security: (any RedisChannelSecurity)?, eventLoop: any EventLoop,
        logger: Logger, onSwitch: @escaping @Sendable (String) -> Void
    ) {
        self.sentinel = sentinel
        self.base = base
        self.security = security
        self.eventLoop = eventLoop
        self.logger = logger
        self.onSwitch = onSwitch
    }

    /// Starts listening (and keeps listening until `stop`).
    func start() {
        eventLoop.execute { self.subscribe() }
    }

    func stop() -> EventLoopFuture<Void> {
        eventLoop.submit {
            self.stopped = true
            return self.channel
        }.flatMap { channel in
            channel?.close().recover { _ in } ?? self.eventLoop.makeSucceededVoidFuture()
        }
    }

    private func subscribe() {
        guard !stopped else { return }
        let node = sentinel.nodes[next % sentinel.nodes.count]
        next &+= 1
        let masterName = sentinel.masterName
        let onSwitch = self.onSwitch
        let logger = self.logger
        let security = self.security
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(base.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try security?.secure(channel, host: node.host)
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
                    try pipeline.addHandler(MessageToByteHandler(RESPCommandEncoder()))
                    try pipeline.addHandler(RedisSubscriptionHandler { push in
                        // ["message", "+switch-master", "<name> <old-ip> <old-port> <new-ip> <new-port>"]
                        guard case let .array(parts) = push, parts.count == 3, parts[0].string == "message",
                              let text = parts[2].string
                        else { return }
                        let words = text.split(separator: " ")
                        guard words.count == 5, words[0] == masterName else { return }
                        logger.notice("the Sentinels switched the Redis master", metadata: [
                            "master": "\(masterName)", "from": "\(words[1]):\(words[2])", "to": "\(words[3]):\(words[4])",
                        ])
                        onSwitch("\(words[1]):\(words[2])")
                    })
                }
            }
        bootstrap.connect(host: node.host, port: node.port).whenComplete { result in
            switch result {
            case let .success(channel):
                guard !self.stopped else {
                    channel.close(promise: nil)
                    return
                }
                self.channel = channel
                if let password = self.sentinel.password {
                    let auth = self.sentinel.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
                    channel.write(auth, promise: nil)
                }
                channel.writeAndFlush(RedisCommand("SUBSCRIBE", "+switch-master"), promise: nil)
                channel.closeFuture.whenComplete { _ in
                    self.channel = nil
                    self.retryLater()
                }
            case let .failure(error):
                self.logger.debug("cannot listen to Sentinel \(node) for master switches", metadata: ["error": "\(error)"])
                self.retryLater()
            }
        }
    }

    private func retryLater() {
        guard !stopped else { return }
        eventLoop.scheduleTask(in: .seconds(1)) { self.subscribe() }
    }
}
