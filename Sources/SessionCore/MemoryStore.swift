import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// The embedded store: sessions in this process's memory, in a sharded table of lock-protected
/// dictionaries. Calls answer on the caller's event loop after one short critical section; no
/// thread hop, no actor.
///
/// Expired sessions are never returned (each call compares with `now`) and are removed when met,
/// and by the sweeper (`run()`, a swift-service-lifecycle `Service`) that visits every shard each
/// `sweepInterval`, so memory stays bounded by the live sessions. Everything is lost when the
/// process ends: this store is for development, tests and single-box set-ups.
public final class MemoryStore: SessionStore, Service {
    /// Tuning of the embedded store.
    public struct Configuration: Sendable {
        /// How many independently locked tables; a power of two.
        public var shardCount: Int
        /// How often the sweeper removes expired sessions.
        public var sweepInterval: Duration

        public init(shardCount: Int = 64, sweepInterval: Duration = .seconds(10)) {
            self.shardCount = shardCount
            self.sweepInterval = sweepInterval
        }
    }

    /// The rule `update` applies to expiries.
    public let policy: LifetimePolicy
    private let clock: any SessionClock
    private let sweepInterval: Duration
    private let shards: [NIOLockedValueBox<[SessionID: Session]>]
    private let shardMask: UInt64
    private let logger: Logger

    /// - Parameters:
    ///   - policy: the lifetimes that `update` applies.
    ///   - clock: read by the sweeper only; calls are given their `now`.
    ///   - configuration: shards and sweep interval; a shard count that is not a power of two is
    ///     rounded up to one.
    public init(
        policy: LifetimePolicy, clock: any SessionClock = SystemClock(),
        configuration: Configuration = .init(), logger: Logger = Logger(label: "sessiond.memory-store")
    ) {
        var count = 1
        while count < max(1, configuration.shardCount) { count <<= 1 }
        self.policy = policy
        self.clock = clock
        self.sweepInterval = configuration.sweepInterval
        self.shards = (0..<count).map { _ in NIOLockedValueBox([:]) }
        self.shardMask = UInt64(count - 1)
        self.logger = logger
    }

    private func shard(for id: SessionID) -> NIOLockedValueBox<[SessionID: Session]> {
        shards[Int(id.low & shardMask)]
    }

    // MARK: - SessionStore

    public func insert(_ session: Session, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let inserted = shard(for: session.id).withLockedValue { table -> Bool in
            if let existing = table[session.id], existing.isLive(at: session.updatedAt) { return false }
            table[session.id] = session
            return true
        }
        return inserted ? eventLoop.makeSucceededVoidFuture() : eventLoop.makeFailedFuture(SessionStoreError.duplicateID)
    }

    public func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        let found = shard(for: id).withLockedValue { table -> Session? in
            guard let session = table[id] else { return nil }
            guard session.isLive(at: now) else {
                table[id] = nil
                return nil
            }
            return session
        }
        return eventLoop.makeSucceededFuture(found)
    }

    public func update(
        _ id: SessionID, _ mutation: SessionMutation, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        let policy = self.policy
        let outcome = shard(for: id).withLockedValue { table -> UpdateOutcome in
            guard let session = table[id] else { return .notFound }
            guard session.isLive(at: now) else {
                table[id] = nil
                return .notFound
            }
            let next = session.applying(mutation, at: now, policy: policy)
            table[id] = next
            return .updated(next)
        }
        return eventLoop.makeSucceededFuture(outcome)
    }

    public func remove(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        let removed = shard(for: id).withLockedValue { table in
            table.removeValue(forKey: id)?.isLive(at: now) ?? false
        }
        return eventLoop.makeSucceededFuture(removed)
    }

    public func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        eventLoop.makeSucceededVoidFuture()
    }

    // MARK: - Sweeping

    /// Removes every session expired at `now`, one shard at a time.
    /// - Returns: how many were removed.
    @discardableResult
    public func sweep(at now: Timestamp) -> Int {
        var removed = 0
        for shard in shards {
            removed += shard.withLockedValue { table in
                let expired = table.compactMap { $0.value.isLive(at: now) ? nil : $0.key }
                for id in expired { table[id] = nil }
                return expired.count
            }
        }
        return removed
    }

    /// How many sessions are held, live or expired but not yet swept.
    public var storedCount: Int {
        shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.count } }
    }

    /// Sweeps every `sweepInterval` until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: self.sweepInterval)
                } catch {
                    return
                }
                let removed = self.sweep(at: self.clock.now())
                if removed > 0 {
                    self.logger.debug("swept expired sessions", metadata: ["removed": "\(removed)"])
                }
            }
        }
    }
}
