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
    /// - Parameter lifetime: the session's own idle lifetime in milliseconds, or nil to let
    ///   `permanent` pick (the caller has checked it against `policy.maxOwn`).
    /// - Returns: the stored session. Fails with the store's error; a clash of ids (which a
    ///   random 122-bit id makes all but impossible) is retried with a fresh id.
    public func create(
        data: [UInt8], permanent: Bool, subject: Subject? = nil, lifetime: Int64? = nil, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Session> {
        let session = newSession(id: .random(), data: data, permanent: permanent, subject: subject, lifetime: lifetime)
        return insertWithFreshID(session, replacing: false, attemptsLeft: 3, on: eventLoop)
    }

    /// What `create(id:…)` did.
    public enum CreateOutcome: Sendable, Hashable {
        case created(Session)
        /// A live session has this id; nothing was written.
        case idTaken
    }

    /// Creates a session under `id`, which the app minted (`PUT` with `If-None-Match: *`),
    /// version 1, unless a live session has that id.
    /// - Returns: `.created` or `.idTaken`. Fails with the store's error.
    public func create(
        id: SessionID, data: [UInt8], permanent: Bool, subject: Subject? = nil, lifetime: Int64? = nil, on eventLoop: any EventLoop
    ) -> EventLoopFuture<CreateOutcome> {
        let session = newSession(id: id, data: data, permanent: permanent, subject: subject, lifetime: lifetime)
        return store.insert(session, on: eventLoop)
            .map { CreateOutcome.created(session) }
            .flatMapError { error in
                guard (error as? SessionStoreError) == .duplicateID else { return eventLoop.makeFailedFuture(error) }
                return eventLoop.makeSucceededFuture(.idTaken)
            }
    }

    /// A session at version 1, created now.
    private func newSession(id: SessionID, data: [UInt8], permanent: Bool, subject: Subject?, lifetime: Int64?) -> Session {
        let now = clock.now()
        return Session(
            id: id, data: data, permanent: permanent, subject: subject, lifetime: lifetime, version: 1,
            createdAt: now, updatedAt: now,
            expiresAt: policy.expiry(createdAt: now, now: now, permanent: permanent, own: lifetime)
        )
    }

    /// Inserts `session`, drawing a new id when its id is taken.
    private func insertWithFreshID(_ session: Session, replacing: Bool, attemptsLeft: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Session> {
        store.insert(session, replacing: replacing, on: eventLoop)
            .map { session }
            .flatMapError { error in
                guard attemptsLeft > 1, (error as? SessionStoreError) == .duplicateID else {
                    return eventLoop.makeFailedFuture(error)
                }
                var retry = session
                retry.id = .random()
                return self.insertWithFreshID(retry, replacing: replacing, attemptsLeft: attemptsLeft - 1, on: eventLoop)
            }
    }

    /// The live session at `now`, or nil; with `touch`, also slides its expiry in the same step.
    /// Callers pass the `now` they also use for the response's `ttl`, so that a session read as
    /// live never shows a `ttl` of 0.
    public func read(_ id: SessionID, at now: Timestamp, touch: Bool = false, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        guard touch else { return store.load(id, at: now, on: eventLoop) }
        return store.update(id, .touch, if: .always, at: now, on: eventLoop).map { outcome in
            if case let .updated(session) = outcome { return session }
            return nil
        }
    }

    /// Applies `mutation` (replace, patch or touch) at `now` (the service's clock when nil) when
    /// `condition` holds; never creates.
    public func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition = .always, at now: Timestamp? = nil,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        store.update(id, mutation, if: condition, at: now ?? clock.now(), on: eventLoop)
    }

    /// Deletes the session when `condition` holds; `.notFound` when there was none.
    public func delete(_ id: SessionID, if condition: WriteCondition = .always, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        store.remove(id, if: condition, at: clock.now(), on: eventLoop)
    }

    /// What `rotate` did.
    public enum RotateOutcome: Sendable, Hashable {
        /// The session under its new id; the old id is gone.
        case rotated(Session)
        case notFound
        case conflict(currentVersion: UInt64)
    }

    /// Moves a live session to a new random id: same data, permanence, subject, own lifetime and
    /// `createdAt`;
    /// version + 1, `updatedAt` = now, the expiry slides. The old id stops working.
    ///
    /// The copy is stored first and the old session is then removed on the condition that its
    /// version has not moved: a write that lands on the old id in between makes the removal fail,
    /// the copy is withdrawn and the rotation starts again from the newer state. So a concurrent
    /// write is either carried over or answered 404, and a store failure between the two steps
    /// leaves the old session in place (the unreachable copy expires by itself).
    /// - Returns: `.rotated`, `.notFound`, or `.conflict` when `condition` fails.
    public func rotate(_ id: SessionID, if condition: WriteCondition = .always, on eventLoop: any EventLoop) -> EventLoopFuture<RotateOutcome> {
        rotate(id, if: condition, attemptsLeft: 5, on: eventLoop)
    }

    private func rotate(_ id: SessionID, if condition: WriteCondition, attemptsLeft: Int, on eventLoop: any EventLoop) -> EventLoopFuture<RotateOutcome> {
        let now = clock.now()
        let store = self.store
        let policy = self.policy
        return store.load(id, at: now, on: eventLoop).flatMap { found -> EventLoopFuture<RotateOutcome> in
            guard let old = found else { return eventLoop.makeSucceededFuture(.notFound) }
            guard condition.allows(old.version) else { return eventLoop.makeSucceededFuture(.conflict(currentVersion: old.version)) }
            var copy = old
            copy.id = .random()
            copy.version = old.version &+ 1
            copy.updatedAt = now
            copy.expiresAt = policy.expiry(createdAt: old.createdAt, now: now, permanent: old.permanent, own: old.lifetime)
            return self.insertWithFreshID(copy, replacing: true, attemptsLeft: 3, on: eventLoop).flatMap { stored in
                store.remove(id, if: .versions([old.version]), at: now, on: eventLoop).flatMap { removal in
                    switch removal {
                    case .removed:
                        return eventLoop.makeSucceededFuture(.rotated(stored))
                    case .notFound, .conflict:
                        // Deleted or written meanwhile: withdraw the copy, then report or retry.
                        let withdrawn = store.remove(stored.id, if: .always, at: now, on: eventLoop)
                        return withdrawn.flatMap { _ in
                            if removal == .notFound { return eventLoop.makeSucceededFuture(.notFound) }
                            guard attemptsLeft > 1 else {
                                return eventLoop.makeFailedFuture(SessionStoreError.contended("the session kept changing during the rotation"))
                            }
                            return self.rotate(id, if: condition, attemptsLeft: attemptsLeft - 1, on: eventLoop)
                        }
                    }
                }
            }
        }
    }

    /// The live sessions of `subject`, oldest first.
    public func sessions(of subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]> {
        store.sessions(of: subject, at: clock.now(), on: eventLoop).map { list in
            list.sorted { ($0.createdAt, $0.handle.high, $0.handle.low) < ($1.createdAt, $1.handle.high, $1.handle.low) }
        }
    }

    /// Removes every live session of `subject` but the one named `kept` (when given).
    ///
    /// Lists the subject's sessions and removes each. A listed session that is gone by the time
    /// of its removal may have been rotated to a new sid (whose copy is listed by then), so the
    /// pass is repeated until one removes every session it listed. A listing reads its sessions
    /// one by one, so a rotation can slip between two reads (the copy read before it was stored,
    /// the original after it was removed); an empty listing is therefore confirmed by a second.
    /// - Returns: how many were removed. Fails with `SessionStoreError.contended` when sessions
    ///   keep vanishing and reappearing for 8 passes (something rotating them in a loop).
    public func revokeAll(of subject: Subject, except kept: SessionHandle? = nil, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        revokePass(subject, except: kept, removedSoFar: 0, passesLeft: 8, confirming: false, on: eventLoop)
    }

    private func revokePass(
        _ subject: Subject, except kept: SessionHandle?, removedSoFar: Int, passesLeft: Int, confirming: Bool,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Int> {
        let now = clock.now()
        let store = self.store
        return store.sessions(of: subject, at: now, on: eventLoop).flatMap { list in
            let targets = list.filter { $0.handle != kept }
            guard !targets.isEmpty else {
                if confirming { return eventLoop.makeSucceededFuture(removedSoFar) }
                return self.revokePass(subject, except: kept, removedSoFar: removedSoFar, passesLeft: passesLeft, confirming: true, on: eventLoop)
            }
            guard passesLeft > 0 else {
                return eventLoop.makeFailedFuture(SessionStoreError.contended("the subject's sessions kept changing during the revocation"))
            }
            let removals = targets.map { store.remove(handle: $0.handle, of: subject, at: now, on: eventLoop) }
            return EventLoopFuture.whenAllSucceed(removals, on: eventLoop).flatMap { outcomes in
                let removed = removedSoFar + outcomes.filter { $0 == .removed }.count
                guard outcomes.contains(where: { $0 != .removed }) else { return eventLoop.makeSucceededFuture(removed) }
                return self.revokePass(subject, except: kept, removedSoFar: removed, passesLeft: passesLeft - 1, confirming: false, on: eventLoop)
            }
        }
    }

    /// Removes the session named `handle` if it belongs to `subject`.
    /// - Returns: whether a live session was removed.
    public func revoke(_ handle: SessionHandle, of subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        store.remove(handle: handle, of: subject, at: clock.now(), on: eventLoop).map { $0 == .removed }
    }

    /// The current time on the service's clock (for `ttl` in responses).
    public func now() -> Timestamp { clock.now() }
}
