import NIOCore

/// Where sessions live. Implementations: `MemoryStore` here, the Redis store later; one
/// conformance suite holds both to the same behaviour.
///
/// Contract for every implementation:
/// - Each call is one atomic operation: concurrent calls on one sid behave as if run one after
///   the other (one critical section in memory, one Redis round trip that Redis runs atomically).
/// - Futures complete on `eventLoop`, the caller's, so a handler never hops threads.
/// - A session is never returned, updated or reported present at or after its `expiresAt`,
///   whether or not it has been swept yet.
/// - A store that cannot answer fails the future with `SessionStoreError.unavailable` (or
///   `.timeout`); it never reports that as "not found".
public protocol SessionStore: Sendable {
    /// Adds `session` under its id.
    /// - Throws (in the future): `SessionStoreError.duplicateID` when a live session has that id.
    func insert(_ session: Session, on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// The live session with `id` at `now`, or nil when there is none or it has expired.
    func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?>

    /// Applies `mutation` to the live session with `id` at `now`, atomically: the version rises
    /// by one, `updatedAt` becomes `now`, and the expiry slides by the store's `LifetimePolicy`.
    /// Never creates a session.
    /// - Returns: `.updated` with the new state, or `.notFound` when absent or expired.
    func update(
        _ id: SessionID, _ mutation: SessionMutation, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome>

    /// Removes the session with `id`; succeeds whether or not it existed.
    /// - Returns: whether a live session was removed.
    func remove(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Bool>

    /// Succeeds when the store can serve requests now (for `/readyz`).
    func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void>
}

/// A change to a stored session, applied atomically by `SessionStore.update`.
public enum SessionMutation: Sendable, Hashable {
    /// Replace the data (compact JSON object bytes) and the permanence.
    case replace(data: [UInt8], permanent: Bool)
}

/// What `SessionStore.update` did.
public enum UpdateOutcome: Sendable, Hashable {
    case updated(Session)
    case notFound
}
