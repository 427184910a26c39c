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
/// Without a journal, everything is lost when the process ends. With one (`--data-dir`, see
/// `SessionJournal`), every change is recorded inside its critical section and a write is
/// answered once its record is as durable as the journal promises; `restore` loads what a
/// journal recovered before serving.
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
        /// How many lifecycle events the history keeps (`GET /events`); 0 records none.
        public var eventHistory: Int

        public init(shardCount: Int = 64, sweepInterval: Duration = .seconds(10), maxSessions: Int? = nil, eventHistory: Int = 0) {
            self.shardCount = shardCount
            self.sweepInterval = sweepInterval
            self.maxSessions = maxSessions
            self.eventHistory = eventHistory
        }
    }

    typealias Table = [SessionHandle: Session]

    /// The rule `update` applies to expiries.
    public let policy: LifetimePolicy
    private let clock: any SessionClock
    private let sweepInterval: Duration
    let shards: [NIOLockedValueBox<Table>]
    private let shardMask: UInt64
    let index: MemorySubjectIndex
    /// The per-subject limit tables (`admit`); derived state, rebuilt by `restore`.
    let limits: MemorySubjectLimits
    private let logger: Logger
    private let maxSessions: Int?
    /// Records every change when the store is durable; nil for memory only.
    let journal: (any SessionJournal)?
    /// The lifecycle events, appended inside each change's critical section; nil when off.
    let eventRing: SessionEventRing?
    /// Sessions held, live or expired but not yet removed.
    let held = Atomic<Int>(0)
    /// When a full store last swept on demand (ms since the epoch), so that refusals stay cheap.
    private let lastFullSweep = Atomic<Int64>(0)

    /// - Parameters:
    ///   - policy: the lifetimes that `update` applies.
    ///   - clock: read by the sweeper only; calls are given their `now`.
    ///   - configuration: shards and sweep interval; a shard count that is not a power of two is
    ///     rounded up to one.
    ///   - journal: where changes are recorded to outlive the process; nil keeps them in memory only.
    public init(
        policy: LifetimePolicy, clock: any SessionClock = SystemClock(),
        configuration: Configuration = .init(), logger: Logger = Logger(label: "sessiond.memory-store"),
        journal: (any SessionJournal)? = nil
    ) {
        var count = 1
        while count < max(1, configuration.shardCount) { count <<= 1 }
        self.policy = policy
        self.clock = clock
        self.sweepInterval = configuration.sweepInterval
        self.shards = (0..<count).map { _ in NIOLockedValueBox([:]) }
        self.shardMask = UInt64(count - 1)
        self.index = MemorySubjectIndex(shardCount: count)
        self.limits = MemorySubjectLimits(shardCount: count)
        self.logger = logger
        self.maxSessions = configuration.maxSessions
        self.journal = journal
        self.eventRing = configuration.eventHistory > 0 ? SessionEventRing(capacity: configuration.eventHistory, startedAt: clock.now()) : nil
    }

    func shard(for handle: SessionHandle) -> NIOLockedValueBox<Table> {
        shards[Int(handle.low & shardMask)]
    }

    /// Runs `body` on the live session under `handle` inside its shard's critical section; an
    /// expired one is removed (with its index entry, and its `expired` event) and `body` gets nil.
    func withLiveSession<T>(
        _ handle: SessionHandle, at now: Timestamp, _ body: (inout Table, Session?) -> T
    ) -> T {
        let index = self.index
        return shard(for: handle).withLockedValue { table in
            var found = table[handle]
            if let session = found, !session.isLive(at: now) {
                table[handle] = nil
                held.subtract(1, ordering: .relaxed)
                if let subject = session.subject { index.remove(handle, from: subject) }
                record(.expired, of: session, handle: handle, at: session.expiresAt)
                found = nil
            }
            return body(&table, found)
        }
    }

    // MARK: - SessionStore

    public func insert(_ session: Session, replacing: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        if let refusal = journal?.writeRefusal() { return eventLoop.makeFailedFuture(refusal) }
        guard replacing ? reserveRoomAnyway() : reserveRoom(at: session.updatedAt) else {
            return eventLoop.makeFailedFuture(SessionStoreError.full("the store holds \(maxSessions ?? 0) sessions"))
        }
        let handle = session.handle
        let index = self.index
        let journal = self.journal
        let (inserted, ticket) = withLiveSession(handle, at: session.updatedAt) { table, existing -> (Bool, JournalTicket?) in
            guard existing == nil else { return (false, nil) }
            table[handle] = session
            if let subject = session.subject { index.add(handle, to: subject) }
            record(.created, of: session, handle: handle, at: session.updatedAt)
            return (true, journal?.record(.put(handle, session)))
        }
        guard inserted else {
            held.subtract(1, ordering: .relaxed)
            return eventLoop.makeFailedFuture(SessionStoreError.duplicateID)
        }
        return answer((), after: ticket, on: eventLoop)
    }

    /// `value` on `eventLoop`, once the change of `ticket` (if any) is durable.
    func answer<T: Sendable>(_ value: T, after ticket: JournalTicket?, on eventLoop: any EventLoop) -> EventLoopFuture<T> {
        guard let ticket, let journal else { return eventLoop.makeSucceededFuture(value) }
        return journal.whenDurable(ticket, on: eventLoop).map { value }
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
        if let frozen = found, case let .rotatedTo(_, readableUntil) = frozen.rotation {
            // Read-only in its grace window, and shown as ending with it; a marker after.
            found = frozen.isReadableFrozen(at: now) ? frozen : nil
            found?.expiresAt = min(readableUntil, frozen.expiresAt)
        }
        found?.id = id
        return eventLoop.makeSucceededFuture(found)
    }

    public func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        if let refusal = journal?.writeRefusal() { return eventLoop.makeFailedFuture(refusal) }
        let handle = SessionHandle(id)
        let policy = self.policy
        let index = self.index
        let journal = self.journal
        let (outcome, ticket) = withLiveSession(handle, at: now) { table, found -> (UpdateOutcome, JournalTicket?) in
            guard let session = found else { return (.notFound, nil) }
            if let refusal = Self.rotationRefusal(of: session, for: mutation, at: now) { return (refusal, nil) }
            guard condition.allows(session.version) else { return (.conflict(currentVersion: session.version), nil) }
            guard var next = session.applying(mutation, at: now, policy: policy) else { return (.dataTooLarge, nil) }
            next.id = id
            table[handle] = next
            index.move(handle, from: session.subject, to: next.subject)
            let change: JournalChange = mutation == .touch ? .touch(handle, expiresAt: next.expiresAt, lastSeenAt: next.lastSeenAt) : .put(handle, next)
            return (.updated(next), journal?.record(change))
        }
        return answer(outcome, after: ticket, on: eventLoop)
    }

    public func remove(
        _ id: SessionID, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome> {
        if let refusal = journal?.writeRefusal() { return eventLoop.makeFailedFuture(refusal) }
        let (outcome, ticket, _) = remove(SessionHandle(id), at: now, event: .deleted) { session in
            if session.isFrozen { return session.isReadableFrozen(at: now) ? .rotated : .notFound }
            return condition.allows(session.version) ? nil : .conflict(currentVersion: session.version)
        }
        return answer(outcome, after: ticket, on: eventLoop)
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
                // The table's handle: a restored session does not know its sid.
                return session.summary(handle: handle)
            }
            if let summary { live.append(summary) }
        }
        return eventLoop.makeSucceededFuture(live)
    }

    public func remove(
        handle: SessionHandle, of subject: Subject, because reason: RemovalReason, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome> {
        if let refusal = journal?.writeRefusal() { return eventLoop.makeFailedFuture(refusal) }
        let (outcome, ticket, _) = remove(handle, at: now, event: reason.eventKind) { session in session.subject == subject ? nil : .notFound }
        return answer(outcome, after: ticket, on: eventLoop)
    }

    /// Removes the live session under `handle` unless `refusal` gives a reason to keep it, and
    /// records `event` (nil for none) when it was neither frozen nor pending.
    /// - Returns: the outcome, the journal's ticket and the session when something was removed.
    func remove(
        _ handle: SessionHandle, at now: Timestamp, event: SessionEvent.Kind?, refusal: (Session) -> RemoveOutcome?
    ) -> (RemoveOutcome, JournalTicket?, Session?) {
        let index = self.index
        let journal = self.journal
        let (outcome, ticket, removed) = withLiveSession(handle, at: now) { table, found -> (RemoveOutcome, JournalTicket?, Session?) in
            guard let session = found else { return (.notFound, nil, nil) }
            if let refused = refusal(session) { return (refused, nil, nil) }
            table[handle] = nil
            held.subtract(1, ordering: .relaxed)
            if let subject = session.subject {
                index.remove(handle, from: subject)
                limits.release(handle, from: subject)
            }
            if let event { record(event, of: session, handle: handle, at: now) }
            return (.removed, journal?.record(.remove(handle)), session)
        }
        guard let original = removed?.rotation?.original else { return (outcome, ticket, removed) }
        // The grace window of the copy's original ends with the copy: a second critical section
        // (one session's lock at a time), removing it only while it still names this copy.
        let ended = withLiveSession(original, at: now) { table, found -> JournalTicket? in
            guard let frozen = found, case .rotatedTo(handle, _) = frozen.rotation else { return nil }
            table[original] = nil
            held.subtract(1, ordering: .relaxed)
            if let subject = frozen.subject { index.remove(original, from: subject) }
            return journal?.record(.remove(original))
        }
        return (outcome, ended ?? ticket, removed)
    }

    /// Why `mutation` may not apply to `session` because of its part in a rotation: a frozen
    /// record takes no writes (`.rotated` in its window, `.notFound` after); a pending copy
    /// takes only its confirmation (`.pending`); a confirmation needs the copy of that original.
    static func rotationRefusal(of session: Session, for mutation: SessionMutation, at now: Timestamp) -> UpdateOutcome? {
        if session.isFrozen { return session.isReadableFrozen(at: now) ? .rotated : .notFound }
        if case let .confirm(from) = mutation {
            return session.rotation?.original == from ? nil : .notFound
        }
        if case let .pendingFrom(original) = session.rotation { return .pending(from: original) }
        return nil
    }

    public func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        eventLoop.makeSucceededVoidFuture()
    }

    // MARK: - Events

    public var recordsEvents: Bool { eventRing != nil }

    public func events(after: EventID?, limit: Int, on eventLoop: any EventLoop) -> EventLoopFuture<EventPage> {
        guard let eventRing else { return eventLoop.makeFailedFuture(SessionStoreError.eventsOff) }
        return eventLoop.makeSucceededFuture(eventRing.read(after: after, limit: limit))
    }

    /// Appends `kind` for `session` (under `handle`) at `time`, unless the session is a frozen
    /// record or a pending copy, which make no events of their own. Called inside the change's
    /// critical section.
    func record(_ kind: SessionEvent.Kind, of session: Session, handle: SessionHandle, at time: Timestamp) {
        guard let eventRing, !session.isFrozen, !session.isPending else { return }
        eventRing.append(kind, handle: handle, subject: session.subject, device: session.device, time: time)
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
                let expired = table.filter { !$0.value.isLive(at: now) }.sorted { $0.value.expiresAt < $1.value.expiresAt }
                for (handle, session) in expired {
                    table[handle] = nil
                    held.subtract(1, ordering: .relaxed)
                    if let subject = session.subject { index.remove(handle, from: subject) }
                    record(.expired, of: session, handle: handle, at: session.expiresAt)
                }
                return expired.count
            }
        }
        limits.sweep(at: now)
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
