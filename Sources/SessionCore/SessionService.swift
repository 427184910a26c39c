import NIOCore

/// The session operations of the API, on any `SessionStore`: makes ids, stamps times, applies
/// the lifetime policy. Input is already validated (data is a compact JSON object).
public struct SessionService: Sendable {
    public let store: any SessionStore
    public let policy: LifetimePolicy
    public let clock: any SessionClock
    /// The most live sessions one subject may have (`--max-sessions-per-subject`); 0 for no limit.
    public let maxSessionsPerSubject: Int

    public init(
        store: any SessionStore, policy: LifetimePolicy, clock: any SessionClock = SystemClock(), maxSessionsPerSubject: Int = 0
    ) {
        self.maxSessionsPerSubject = max(0, maxSessionsPerSubject)
        self.store = store
        self.policy = policy
        self.clock = clock
    }

    /// Creates a session with a new random id, version 1.
    /// - Parameter lifetime: the session's own idle lifetime in milliseconds, or nil to let
    ///   `permanent` pick (the caller has checked it against `policy.maxOwn`).
    /// - Returns: the stored session. Fails with the store's error; a clash of ids (which a
    ///   random 122-bit id makes all but impossible) is retried with a fresh id.
    /// - Parameter onLimit: what to do when the subject has `maxSessionsPerSubject` live
    ///   sessions (see `withRoom`); fails with `TooManySessions` when it refuses.
    public func create(
        data: [UInt8], permanent: Bool, subject: Subject? = nil, lifetime: Int64? = nil, device: [UInt8]? = nil,
        onLimit: LimitPolicy = .evictOldest, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Session> {
        let session = newSession(id: .random(), data: data, permanent: permanent, subject: subject, lifetime: lifetime, device: device)
        guard subject != nil, maxSessionsPerSubject > 0 else {
            return insertWithFreshID(session, replacing: false, attemptsLeft: 3, on: eventLoop)
        }
        // Counted under its handle first, so its id is final: a clash is retried with a new one.
        let store = self.store
        return withRoom(for: session, onLimit: onLimit, attemptsLeft: 200, on: eventLoop) {
            store.insert(session, on: eventLoop).map { session }
        }.flatMapError { error in
            guard (error as? SessionStoreError) == .duplicateID else { return eventLoop.makeFailedFuture(error) }
            return self.create(
                data: data, permanent: permanent, subject: subject, lifetime: lifetime, device: device, onLimit: onLimit, on: eventLoop
            )
        }
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
        id: SessionID, data: [UInt8], permanent: Bool, subject: Subject? = nil, lifetime: Int64? = nil, device: [UInt8]? = nil,
        onLimit: LimitPolicy = .evictOldest, on eventLoop: any EventLoop
    ) -> EventLoopFuture<CreateOutcome> {
        let session = newSession(id: id, data: data, permanent: permanent, subject: subject, lifetime: lifetime, device: device)
        let store = self.store
        return withRoom(for: session, onLimit: onLimit, attemptsLeft: 200, on: eventLoop) { store.insert(session, on: eventLoop) }
            .map { CreateOutcome.created(session) }
            .flatMapError { error in
                guard (error as? SessionStoreError) == .duplicateID else { return eventLoop.makeFailedFuture(error) }
                return eventLoop.makeSucceededFuture(.idTaken)
            }
    }

    /// A session at version 1, created now.
    private func newSession(id: SessionID, data: [UInt8], permanent: Bool, subject: Subject?, lifetime: Int64?, device: [UInt8]?) -> Session {
        let now = clock.now()
        return Session(
            id: id, data: data, permanent: permanent, subject: subject, lifetime: lifetime, version: 1,
            createdAt: now, updatedAt: now,
            expiresAt: policy.expiry(createdAt: now, now: now, permanent: permanent, own: lifetime), device: device
        )
    }

    /// Inserts `session`, drawing a new id when its id is taken.
    func insertWithFreshID(_ session: Session, replacing: Bool, attemptsLeft: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Session> {
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
    ///
    /// A rotated sid in its grace window reads the state frozen at the rotation (`isFrozen`),
    /// also with `touch`, which it does not slide. A rotation's copy is served only once its
    /// rotation is known to have completed (see `resolvePending`).
    public func read(_ id: SessionID, at now: Timestamp, touch: Bool = false, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        let store = self.store
        guard touch else {
            return store.load(id, at: now, on: eventLoop).flatMap { found in
                guard let session = found, case let .pendingFrom(original) = session.rotation else {
                    return eventLoop.makeSucceededFuture(found)
                }
                return self.resolvePending(id, from: original, at: now, on: eventLoop)
            }
        }
        return store.update(id, .touch, if: .always, at: now, on: eventLoop).flatMap { outcome in
            switch outcome {
            case let .updated(session): return self.noteSeen(session, at: now, on: eventLoop).map { session }
            case .rotated: return store.load(id, at: now, on: eventLoop)
            // A confirmation slides the expiry as the touch would have.
            case let .pending(original): return self.resolvePending(id, from: original, at: now, on: eventLoop)
            case .notFound, .conflict, .dataTooLarge: return eventLoop.makeSucceededFuture(nil)
            }
        }
    }

    /// Applies `mutation` (replace, patch or touch) at `now` (the service's clock when nil) when
    /// `condition` holds; never creates. A rotated sid in its grace window answers `.rotated`.
    public func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition = .always, at now: Timestamp? = nil,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        let now = now ?? clock.now()
        let store = self.store
        return store.update(id, mutation, if: condition, at: now, on: eventLoop).flatMap { outcome -> EventLoopFuture<UpdateOutcome> in
            guard case let .pending(original) = outcome else { return eventLoop.makeSucceededFuture(outcome) }
            return self.resolvePending(id, from: original, at: now, on: eventLoop).flatMap { confirmed in
                guard confirmed != nil else { return eventLoop.makeSucceededFuture(.notFound) }
                return store.update(id, mutation, if: condition, at: now, on: eventLoop).map { again in
                    if case .pending = again { return .notFound }
                    return again
                }
            }
        }.flatMap { outcome in
            guard case let .updated(session) = outcome else { return eventLoop.makeSucceededFuture(outcome) }
            return self.noteSeen(session, at: now, on: eventLoop).map { outcome }
        }
    }

    /// Deletes the session when `condition` holds; `.notFound` when there was none, `.rotated`
    /// for a rotated sid in its grace window (which stays).
    public func delete(_ id: SessionID, if condition: WriteCondition = .always, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        store.remove(id, if: condition, at: clock.now(), on: eventLoop)
    }

    /// The live sessions of `subject`, oldest first.
    /// Frozen records of rotated sessions and unconfirmed copies are left out.
    public func sessions(of subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]> {
        store.sessions(of: subject, at: clock.now(), on: eventLoop).map { list in
            list.filter { !$0.inRotation }.sorted { ($0.createdAt, $0.handle.high, $0.handle.low) < ($1.createdAt, $1.handle.high, $1.handle.low) }
        }
    }

    /// Removes every live session of `subject` but the one named `kept` (when given), with the
    /// frozen records of its rotated sids (whose grace windows end) and unconfirmed copies.
    ///
    /// Lists the subject's sessions and removes each. A listed session may have been rotated to
    /// a new sid by the time of its removal (whose copy is listed by then), so the pass is
    /// repeated until a listing finds nothing to remove. A listing reads its sessions
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
            let removals = targets.map { store.remove(handle: $0.handle, of: subject, because: .revoked, at: now, on: eventLoop) }
            return EventLoopFuture.whenAllSucceed(removals, on: eventLoop).flatMap { outcomes in
                // Frozen records of rotated sids go too, but are not sessions of their own.
                let removed = removedSoFar + zip(targets, outcomes).filter { $0.1 == .removed && !$0.0.frozen }.count
                // Always listed again: a session listed live may have been frozen by a rotation
                // before its removal, and its copy (stored before the freeze, so listed by now)
                // must go too.
                return self.revokePass(subject, except: kept, removedSoFar: removed, passesLeft: passesLeft - 1, confirming: false, on: eventLoop)
            }
        }
    }

    /// Removes the session named `handle` if it belongs to `subject`.
    /// - Returns: whether a live session was removed.
    public func revoke(_ handle: SessionHandle, of subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        let store = self.store
        let limited = maxSessionsPerSubject > 0
        return store.remove(handle: handle, of: subject, because: .revoked, at: clock.now(), on: eventLoop).flatMap { outcome in
            guard limited, outcome == .removed else { return eventLoop.makeSucceededFuture(outcome == .removed) }
            return store.release(handle, from: subject, on: eventLoop).recover { _ in }.map { true }
        }
    }

    /// The current time on the service's clock (for `ttl` in responses).
    public func now() -> Timestamp { clock.now() }
}
