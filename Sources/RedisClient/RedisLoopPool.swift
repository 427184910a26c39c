import Logging
import NIOCore

/// The connections of one event loop. All state is touched on that loop only, so a command
/// from a request handler on the loop needs no lock and no thread hop.
///
/// A slot is idle (with the time of the next allowed attempt), connecting, or connected.
/// Commands are spread round-robin over the slots. A slot that cannot connect waits 50 ms, then
/// twice as long after each failure up to `maxBackoff`; while it waits, commands aimed at it go
/// to another connected slot of the loop, or fail at once with `.notConnected` when there is none. A dropped connection is reopened on the next
/// command.
final class RedisLoopPool: @unchecked Sendable {
    // @unchecked: every mutable property is confined to `eventLoop` (checked in debug builds).
    private enum Slot {
        case idle(retryAt: NIODeadline, backoff: TimeAmount)
        case connecting(EventLoopFuture<RedisConnection>)
        case connected(RedisConnection)
    }

    static let minimumBackoff = TimeAmount.milliseconds(50)

    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let logger: Logger
    private var slots: [Slot]
    private var cursor = 0
    private var closed = false
    private var failing = false

    init(eventLoop: any EventLoop, configuration: RedisConfiguration, logger: Logger) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.slots = Array(repeating: .idle(retryAt: .uptimeNanoseconds(0), backoff: Self.minimumBackoff), count: max(1, configuration.connectionsPerLoop))
    }

    /// A usable connection, or a failure with `.notConnected`. Must be called on `eventLoop`.
    func connection() -> EventLoopFuture<RedisConnection> {
        eventLoop.preconditionInEventLoop()
        guard !closed else {
            return eventLoop.makeFailedFuture(RedisClientError.notConnected("the Redis pool is closed"))
        }
        let index = cursor
        cursor = (cursor + 1) % slots.count
        switch slots[index] {
        case let .connected(connection) where connection.isActive:
            return eventLoop.makeSucceededFuture(connection)
        case .connected:
            return connect(slot: index, backoff: Self.minimumBackoff)
        case let .connecting(future):
            return future
        case let .idle(retryAt, backoff):
            guard NIODeadline.now() >= retryAt else {
                // This slot waits out its backoff; another connection of the loop may be fine.
                for case let .connected(connection) in slots where connection.isActive {
                    return eventLoop.makeSucceededFuture(connection)
                }
                return eventLoop.makeFailedFuture(
                    RedisClientError.notConnected("Redis at \(configuration.host):\(configuration.port) is unreachable; retrying")
                )
            }
            return connect(slot: index, backoff: backoff)
        }
    }

    private func connect(slot index: Int, backoff: TimeAmount) -> EventLoopFuture<RedisConnection> {
        let future = RedisConnection.connect(configuration, on: eventLoop)
        slots[index] = .connecting(future)
        future.whenComplete { result in
            self.eventLoop.preconditionInEventLoop()
            switch result {
            case let .success(connection):
                if self.closed {
                    _ = connection.close()
                    return
                }
                self.slots[index] = .connected(connection)
                if self.failing {
                    self.failing = false
                    self.logger.notice("connected to Redis again", metadata: ["redis": "\(self.configuration.redactedURL)"])
                }
                connection.channel.closeFuture.whenComplete { _ in
                    guard case let .connected(current) = self.slots[index], current === connection else { return }
                    self.slots[index] = .idle(retryAt: .now(), backoff: Self.minimumBackoff)
                    if !self.closed {
                        self.logger.warning("connection to Redis lost; reopening on the next command", metadata: ["redis": "\(self.configuration.redactedURL)"])
                    }
                }
            case let .failure(error):
                let next = min(backoff * 2, self.configuration.maxBackoff)
                self.slots[index] = .idle(retryAt: .now() + backoff, backoff: next)
                if !self.failing {
                    self.failing = true
                    self.logger.error("cannot use Redis", metadata: ["redis": "\(self.configuration.redactedURL)", "error": "\(error)"])
                }
            }
        }
        return future
    }

    /// Closes every connection; later commands fail with `.notConnected`. Call on `eventLoop`.
    func close() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        closed = true
        var closing: [EventLoopFuture<Void>] = []
        for slot in slots {
            if case let .connected(connection) = slot { closing.append(connection.close()) }
        }
        return EventLoopFuture.andAllComplete(closing, on: eventLoop)
    }
}
