import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Synchronization

/// The embedded store: sessions in this process's memory, in a sharded table of lock-protected
/// dictionaries keyed by handle. Calls answer on the caller's event loop after one short
/// critical section; no thread hop, no actor.
///
/// Expired sessions are never returned (each call compares with `now`) and are removed when met,
/// and by the sweeper (`run()`, a swift-service-lifecycle `Service`) that visits every shard each
/// `sweepInterval`, so memory stays bounded by the live sessions. The subject index is updated
/// inside the session's critical section and pruned of expired sessions by the same sweep.
/// Everything is lost when the process ends: this store is for development, tests and
/// single-box set-ups.
public final class MemoryStore: SessionStore, Service {
    /// Tuning of the embedded store.
    public struct Configuration: Sendable {
        /// How many independently locked tables; a power of two.
        public var shardCount: Int
        /// How often the sweeper removes expired sessions.
        public var sweepInterval: Duration
        /// The most sessions held at once, or nil for no limit; `insert` beyond it fails with
        /// `SessionStoreError.full`.
        public var maxSessions: Int?

        public init(shardCount: Int = 64, sweepInterval: Duration = .seconds(10), maxSessions: Int? = nil) {
            self.shardCount = shardCount
            self.sweepInterval = sweepInterval
            self.maxSessions = maxSessions
        }
    }

    private typealias Table = [SessionHandle: Session]

    /// The rule `update` applies to expiries.
    public let policy: LifetimePolicy
    private let clock: any SessionClock
    private let sweepInterval: Duration
    private let shards: [NIOLockedValueBox<Table>]
    private let shardMask: UInt64
    private let index: MemorySubjectIndex
    private let logger: Logger
    private let maxSessions: Int?
    /// Sessions held, live or expired but not yet removed.
    private let held = Atomic<Int>(0)
    /// When a full store last swept on demand (ms since the epoch), so that refusals stay cheap.
    private let lastFullSweep = Atomic<Int64>(0)

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
        self.index = MemorySubjectIndex(shardCount: count)
        self.logger = logger
        self.maxSessions = configuration.maxSessions
    }

    private func shard(for handle: SessionHandle) -> NIOLockedValueBox<Table> {
        shards[Int(handle.low & shardMask)]
    }

    /// Runs `body` on the live session under `handle` inside its shard's critical section; an
    /// expired one is removed (with its index entry) and `body` gets nil.
    private func withLiveSession<T>(
        _ handle: SessionHandle, at now: Timestamp, _ body: (inout Table, Session?) -> T
    ) -> T {
        let index = self.index
        return shard(for: handle).withLockedValue { table in
            var found = table[handle]
            if let session = found, !session.isLive(at: now) {
                table[handle] = nil
                held.subtract(1, ordering: .relaxed)
                if let subject = session.subject { index.remove(handle, from: subject) }
                found = nil
            }
            return body(&table, found)
        }
    }

    // MARK: - SessionStore

    public func insert(_ session: Session, replacing: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard replacing ? reserveRoomAnyway() : reserveRoom(at: session.updatedAt) else {
            return eventLoop.makeFailedFuture(SessionStoreError.full("the store holds \(maxSessions ?? 0) sessions"))
        }
        let handle = session.handle
        let index = self.index
        let inserted = withLiveSession(handle, at: session.updatedAt) { table, existing -> Bool in
            guard existing == nil else { return false }
            table[handle] = session
            if let subject = session.subject { index.add(handle, to: subject) }
            return true
        }
        guard inserted else {
            held.subtract(1, ordering: .relaxed)
            return eventLoop.makeFailedFuture(SessionStoreError.duplicateID)
        }
        return eventLoop.makeSucceededVoidFuture()
    }

    /// Counts one more session held, over the limit too: a rotation's copy, whose original goes.
    private func reserveRoomAnyway() -> Bool {
        held.add(1, ordering: .relaxed)
        return true
    }

    /// Counts one more session held; false (and nothing counted) when that would pass
    /// `maxSessions` even after expired sessions are swept (at most once a second).
    private func reserveRoom(at now: Timestamp) -> Bool {
        let before = held.add(1, ordering: .relaxed).oldValue
        guard let maxSessions, before >= maxSessions else { return true }
        held.subtract(1, ordering: .relaxed)
        // Expired sessions still count until swept: sweep, then try once more. A sweep visits
        // every session, so a full store does it at most once a second, not per refusal.
        let last = lastFullSweep.load(ordering: .relaxed)
        guard now.millisecondsSinceEpoch - last >= 1000,
              lastFullSweep.compareExchange(expected: last, desired: now.millisecondsSinceEpoch, ordering: .relaxed).exchanged
        else { return false }
        sweep(at: now)
        let again = held.add(1, ordering: .relaxed).oldValue
        guard again >= maxSessions else { return true }
        held.subtract(1, ordering: .relaxed)
        return false
    }

    public func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        var found = withLiveSession(SessionHandle(id), at: now) { _, session in session }
        found?.id = id
        return eventLoop.makeSucceededFuture(found)
    }

    public func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        let handle = SessionHandle(id)
        let policy = self.policy
        let index = self.index
        let outcome = withLiveSession(handle, at: now) { table, found -> UpdateOutcome in
            guard let session = found else { return .notFound }
            guard condition.allows(session.version) else { return .conflict(currentVersion: session.version) }
            guard var next = session.applying(mutation, at: now, policy: policy) else { return .dataTooLarge }
            next.id = id
            table[handle] = next
            index.move(handle, from: session.subject, to: next.subject)
            return .updated(next)
        }
        return eventLoop.makeSucceededFuture(outcome)
    }

    public func remove(
        _ id: SessionID, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome> {
        let outcome = remove(SessionHandle(id), at: now) { session in
            condition.allows(session.version) ? nil : .conflict(currentVersion: session.version)
        }
        return eventLoop.makeSucceededFuture(outcome)
    }

    public func sessions(of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]> {
        let index = self.index
        var live: [SessionSummary] = []
        for handle in index.handles(of: subject) {
            // Checked and pruned inside the session's critical section, where every index change
            // of this handle happens, so a write moving it back cannot slip in between.
            let summary = withLiveSession(handle, at: now) { _, session -> SessionSummary? in
                guard let session, session.subject == subject else {
                    index.remove(handle, from: subject)
                    return nil
                }
                return session.summary
            }
            if let summary { live.append(summary) }
        }
        return eventLoop.makeSucceededFuture(live)
    }

    public func remove(
        handle: SessionHandle, of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome> {
        let outcome = remove(handle, at: now) { session in session.subject == subject ? nil : .notFound }
        return eventLoop.makeSucceededFuture(outcome)
    }

    /// Removes the live session under `handle` unless `refusal` gives a reason to keep it.
    private func remove(_ handle: SessionHandle, at now: Timestamp, refusal: (Session) -> RemoveOutcome?) -> RemoveOutcome {
        let index = self.index
        return withLiveSession(handle, at: now) { table, found -> RemoveOutcome in
            guard let session = found else { return .notFound }
            if let refused = refusal(session) { return refused }
            table[handle] = nil
            held.subtract(1, ordering: .relaxed)
            if let subject = session.subject { index.remove(handle, from: subject) }
            return .removed
        }
    }

    public func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        eventLoop.makeSucceededVoidFuture()
    }

    // MARK: - Sweeping

    /// Removes every session expired at `now`, with its subject index entry, one shard at a time.
    /// - Returns: how many were removed.
    @discardableResult
    public func sweep(at now: Timestamp) -> Int {
        let index = self.index
        var removed = 0
        for shard in shards {
            removed += shard.withLockedValue { table in
                let expired = table.filter { !$0.value.isLive(at: now) }
                for (handle, session) in expired {
                    table[handle] = nil
                    held.subtract(1, ordering: .relaxed)
                    if let subject = session.subject { index.remove(handle, from: subject) }
                }
                return expired.count
            }
        }
        return removed
    }

    /// How many sessions are held, live or expired but not yet swept.
    public var storedCount: Int {
        shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.count } }
    }

    /// How many subject index entries are held over all subjects.
    public var indexEntryCount: Int { index.entryCount }

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
