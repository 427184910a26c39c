import NIOCore

/// The session operations of the API, on any `SessionStore`: makes ids, stamps times, applies
/// the lifetime policy. Input is already validated (data is a compact JSON object).
public struct SessionService: Sendable {
    public let store: any SessionStore
    public let policy: LifetimePolicy
    public let clock: any SessionClock

    public init(store: any SessionStore, policy: LifetimePolicy, clock: any SessionClock = SystemClock()) {
        self.store = store
        self.policy = policy
        self.clock = clock
    }

    /// Creates a session with a new random id, version 1.
    /// - Returns: the stored session. Fails with the store's error; a clash of ids (which a
    ///   random 122-bit id makes all but impossible) is retried with a fresh id.
    public func create(data: [UInt8], permanent: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Session> {
        create(data: data, permanent: permanent, attemptsLeft: 3, on: eventLoop)
    }

    private func create(data: [UInt8], permanent: Bool, attemptsLeft: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Session> {
        let now = clock.now()
        let session = Session(
            id: .random(), data: data, permanent: permanent, version: 1,
            createdAt: now, updatedAt: now,
            expiresAt: policy.expiry(createdAt: now, now: now, permanent: permanent)
        )
        return store.insert(session, on: eventLoop)
            .map { session }
            .flatMapError { error in
                guard attemptsLeft > 1, (error as? SessionStoreError) == .duplicateID else {
                    return eventLoop.makeFailedFuture(error)
                }
                return self.create(data: data, permanent: permanent, attemptsLeft: attemptsLeft - 1, on: eventLoop)
            }
    }

    /// The live session at `now`, or nil. Callers pass the `now` they also use for the
    /// response's `ttl`, so that a session read as live never shows a `ttl` of 0.
    public func read(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        store.load(id, at: now, on: eventLoop)
    }

    /// Replaces data and permanence of a live session and slides its expiry; never creates one.
    public func replace(_ id: SessionID, data: [UInt8], permanent: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<UpdateOutcome> {
        store.update(id, .replace(data: data, permanent: permanent), at: clock.now(), on: eventLoop)
    }

    /// Deletes the session; succeeds also when it did not exist.
    /// - Returns: whether a live session was removed.
    public func delete(_ id: SessionID, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        store.remove(id, at: clock.now(), on: eventLoop)
    }

    /// The current time on the service's clock (for `ttl` in responses).
    public func now() -> Timestamp { clock.now() }
}
