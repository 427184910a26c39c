import NIOCore

/// Where sessions live. Implementations: `MemoryStore` here, `RedisStore` on Redis; one
/// conformance suite holds both to the same behaviour.
///
/// Contract for every implementation:
/// - Sessions are keyed by their `SessionHandle`, never by the sid itself.
/// - Each call on one session is one atomic operation: concurrent calls on one sid behave as if
///   run one after the other (one critical section in memory, one Lua script that Redis runs
///   atomically), and a `WriteCondition` is checked inside that same step.
/// - Futures complete on `eventLoop`, the caller's, so a handler never hops threads.
/// - A session is never returned, updated or reported present at or after its `expiresAt`,
///   whether or not it has been swept yet.
/// - The subject index lists every live session of a subject (it may hold entries of sessions
///   that are gone or moved, which listing skips) and holds nothing long after the sessions it
///   names expired.
/// - A store that cannot answer fails the future with `SessionStoreError.unavailable` (or
///   `.timeout`); it never reports that as "not found".
public protocol SessionStore: Sendable {
    /// Adds `session` under its handle (and to its subject's index).
    /// - Parameter replacing: true for a rotation's copy, whose original is removed next: a
    ///   store with a session limit lets it in even when full.
    /// - Throws (in the future): `SessionStoreError.duplicateID` when a live session has that id,
    ///   `.full` when the store holds as many sessions as it may.
    func insert(_ session: Session, replacing: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// The live session with `id` at `now`, or nil when there is none or it has expired.
    /// A frozen record is returned only while it is readable, with `expiresAt` at the end of
    /// its grace window; a pending copy is returned as it is (`rotation` says so).
    func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?>

    /// Applies `mutation` to the live session with `id` at `now` when `condition` allows its
    /// version, atomically, by the rule of `Session.applying(_:at:policy:)`. Never creates.
    /// A frozen record (`RotationMark.rotatedTo`) answers `.rotated` while it is readable and
    /// `.notFound` after; a pending copy answers `.pending` to anything but its `.confirm`.
    /// - Returns: `.updated` with the new state, `.notFound`, `.conflict` with the current
    ///   version, `.dataTooLarge`, `.rotated` or `.pending`; only `.updated` wrote anything.
    func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome>

    /// Removes the session with `id` when `condition` allows its version. Removing a rotation's
    /// copy also removes the frozen record of its original, if it still names the copy (the
    /// grace window ends), in a second step.
    /// - Returns: `.removed`, `.notFound` (nothing to remove, or a frozen record past its
    ///   window), `.conflict` (it stays), or `.rotated` (a frozen record in its window stays).
    func remove(
        _ id: SessionID, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome>

    /// The live sessions of `subject` at `now`, in no particular order; index entries of
    /// sessions that are gone or belong to another subject now are skipped (and may be dropped).
    func sessions(of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]>

    /// Removes the session named `handle` if it is live and belongs to `subject`: frozen records
    /// and pending copies too (a revoked user keeps no readable copy), with the frozen record of
    /// a copy's original as `remove(_:if:at:on:)` does.
    /// - Returns: `.removed` or `.notFound` (never `.conflict` or `.rotated`).
    /// The event it records says `reason`.
    func remove(
        handle: SessionHandle, of subject: Subject, because reason: RemovalReason, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome>

    /// Freezes the live session with `id` for a rotation, atomically, if it is at `version`: it
    /// keeps its state (its data only when `readableUntil` is after `now`), is marked
    /// `rotatedTo(successor, readableUntil:)` (the epoch for no window), and expires at `until` (at or after `readableUntil`).
    /// - Returns: `.frozen`, `.notFound`, `.conflict`, `.alreadyRotated` (to whichever
    ///   successor) or `.pending`; only `.frozen` changed anything.
    func freeze(
        _ id: SessionID, at version: UInt64, successor: SessionHandle, readableUntil: Timestamp, until: Timestamp, now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<FreezeOutcome>

    /// Removes the session with `id` only if it is a rotation's copy still pending from
    /// `original` (a rotation that did not complete withdraws its copy).
    func withdraw(_ id: SessionID, pendingFrom original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// What the live record under `handle` says about rotations (a frozen record past its
    /// grace window still names its successor until it expires).
    func rotationState(of handle: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotationState>

    // MARK: Per-subject limits (`--max-sessions-per-subject`)
    //
    // Each subject has a small table of the sessions it counts: handle, last seen, expiry.
    // `admit` checks and adds in one atomic step (one key on Redis), so concurrent creates on
    // any number of instances never admit more than `max`. The table may hold entries of
    // sessions that are gone (a delete does not know its subject): callers check the entries
    // that `admit` reports before refusing or evicting, and `release` the dead ones.

    /// Counts `handle` under `subject` (last seen `lastSeen`, until `expiresAt`) if the table
    /// holds fewer than `max` other live entries at `now`; entries past their expiry are dropped.
    /// - Returns: `.admitted`, or `.full` with the other entries (nothing changed).
    func admit(
        _ handle: SessionHandle, to subject: Subject, max: Int, lastSeen: Timestamp, expiresAt: Timestamp, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<AdmitOutcome>

    /// Records that the session `handle` of `subject` was seen (written or touched) at
    /// `lastSeen` and now expires at `expiresAt`, adding its entry if it had none.
    func noteSeen(
        _ handle: SessionHandle, of subject: Subject, lastSeen: Timestamp, expiresAt: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void>

    /// Drops the entry of `handle` from `subject`'s table (the session is gone or left it).
    func release(_ handle: SessionHandle, from subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    // MARK: Events (`GET /events`)
    //
    // A store that records events appends one inside the same atomic step as each change it
    // tells of (one script on Redis), so an event exists if and only if its change happened:
    // `created` (an insert that is not a rotation's copy), `rotated` (a freeze), `deleted` (a
    // removal by sid), `revoked` and `limit_evicted` (a removal by handle, by its reason), and
    // `expired`, recorded when the expiry is noticed (met by a call, or swept) and timed at the
    // expiry itself. Frozen records and pending copies make no events of their own.

    /// Whether this store records events (`--event-history` above 0, on a store that can).
    var recordsEvents: Bool { get }

    /// Up to `limit` recorded events after `after`, oldest first; with `after` nil, none, and
    /// the newest position as the cursor.
    /// - Throws (in the future): `SessionStoreError.unavailable` or `.timeout` when the store
    ///   cannot answer.
    func events(after: EventID?, limit: Int, on eventLoop: any EventLoop) -> EventLoopFuture<EventPage>

    /// Succeeds when the store can serve requests now (for `/readyz`).
    func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void>
}

extension SessionStore {
    /// Adds a new session (not a rotation's copy).
    public func insert(_ session: Session, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        insert(session, replacing: false, on: eventLoop)
    }

    /// Revokes the session named `handle` of `subject` (a `revoked` event).
    public func remove(handle: SessionHandle, of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        remove(handle: handle, of: subject, because: .revoked, at: now, on: eventLoop)
    }
}
