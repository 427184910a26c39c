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
            case let .updated(session): return eventLoop.makeSucceededFuture(session)
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
        return store.update(id, mutation, if: condition, at: now, on: eventLoop).flatMap { outcome in
            guard case let .pending(original) = outcome else { return eventLoop.makeSucceededFuture(outcome) }
            return self.resolvePending(id, from: original, at: now, on: eventLoop).flatMap { confirmed in
                guard confirmed != nil else { return eventLoop.makeSucceededFuture(.notFound) }
                return store.update(id, mutation, if: condition, at: now, on: eventLoop).map { again in
                    if case .pending = again { return .notFound }
                    return again
                }
            }
        }
    }

    /// Finds out whether the rotation that made the pending copy `id` of `original` completed:
    /// when the original is frozen naming this copy, confirms the copy and returns it; when the
    /// original is gone or names another copy, the rotation can never complete and the copy is
    /// withdrawn; while the original is live (the rotation failed, or is under way) the copy is
    /// not served and expires by itself. Returns nil unless confirmed.
    private func resolvePending(_ id: SessionID, from original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        let store = self.store
        let handle = SessionHandle(id)
        return store.rotationState(of: original, at: now, on: eventLoop).flatMap { state in
            switch state {
            case .rotatedTo(handle):
                return store.update(id, .confirm(from: original), if: .always, at: now, on: eventLoop).map { outcome in
                    if case let .updated(session) = outcome { return session }
                    return nil
                }
            case .absent, .rotatedTo:
                return store.withdraw(id, pendingFrom: original, at: now, on: eventLoop).map { nil }
            case .live, .pending:
                return eventLoop.makeSucceededFuture(nil)
            }
        }
    }

    /// Deletes the session when `condition` holds; `.notFound` when there was none, `.rotated`
    /// for a rotated sid in its grace window (which stays).
    public func delete(_ id: SessionID, if condition: WriteCondition = .always, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        store.remove(id, if: condition, at: clock.now(), on: eventLoop)
    }

    /// What `rotate` did.
    public enum RotateOutcome: Sendable, Hashable {
        /// The session under its new id; the old id is gone, or frozen for its grace window.
        case rotated(Session)
        /// A retry of a rotation to the same proposed id that had completed: the session under
        /// that id now (nothing changed).
        case alreadyRotated(Session)
        case notFound
        case conflict(currentVersion: UInt64)
        /// The id was rotated to another id and is in its grace window: read-only.
        case oldRotated
        /// The proposed id is taken by another live session; nothing changed.
        case idTaken
    }

    /// Moves a live session to a new id: same data, permanence, subject, own lifetime and
    /// `createdAt`; version + 1, `updatedAt` = now, the expiry slides.
    ///
    /// Three steps, each atomic on one record: (1) the copy is stored under the new id, marked
    /// pending from the original, expiring within `LifetimePolicy.rotationRecordLifetime`
    /// unless confirmed; (2) the original is frozen on the condition that its version has not
    /// moved, naming the copy's handle (read-only for the grace window, then a data-less marker,
    /// at least `rotationRecordLifetime` in all); (3) the copy is confirmed. A write that lands
    /// on the old id between (1) and (2) makes (2) fail: the copy is withdrawn and the rotation
    /// starts again from the newer state, so a concurrent write is carried over or answered 404
    /// (or 409 `rotated` in the window). A failure before (2) leaves the old id working and the
    /// copy never served (it expires soon); after (2), the copy is served once anyone finds the
    /// frozen original naming it (a read of the new id, or a retry).
    ///
    /// - Parameters:
    ///   - proposed: the new id, minted by the caller (a random UUID, never one from a cookie),
    ///     or nil for a random one. With it the rotation is idempotent: a retry with the same
    ///     id after a failure answers `.alreadyRotated` when the first attempt completed, and
    ///     completes it otherwise.
    ///   - grace: the grace window in milliseconds, capped by `policy.rotationGrace`; nil for
    ///     that setting.
    /// - Returns: `.rotated`, `.alreadyRotated`, `.notFound`, `.conflict` when `condition`
    ///   fails, `.oldRotated`, or `.idTaken` (the proposed id is another session's).
    public func rotate(
        _ id: SessionID, if condition: WriteCondition = .always, to proposed: SessionID? = nil, grace: Int64? = nil,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RotateOutcome> {
        let window = max(0, min(grace ?? policy.rotationGrace, policy.rotationGrace))
        return rotate(id, if: condition, to: proposed, grace: window, attemptsLeft: 5, on: eventLoop)
    }

    private func rotate(
        _ id: SessionID, if condition: WriteCondition, to proposed: SessionID?, grace: Int64, attemptsLeft: Int, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RotateOutcome> {
        let now = clock.now()
        let store = self.store
        return store.load(id, at: now, on: eventLoop).flatMap { found -> EventLoopFuture<RotateOutcome> in
            guard let old = found else {
                // Gone, or a frozen record past its window: a retry of a completed rotation?
                guard let proposed else { return eventLoop.makeSucceededFuture(.notFound) }
                return store.rotationState(of: SessionHandle(id), at: now, on: eventLoop).flatMap { state in
                    guard state == .rotatedTo(SessionHandle(proposed)) else { return eventLoop.makeSucceededFuture(.notFound) }
                    return self.replay(proposed, at: now, on: eventLoop)
                }
            }
            switch old.rotation {
            case let .rotatedTo(successor, _):
                if let proposed, successor == SessionHandle(proposed) { return self.replay(proposed, at: now, on: eventLoop) }
                return eventLoop.makeSucceededFuture(.oldRotated)
            case let .pendingFrom(original):
                // A copy of an earlier rotation: served, and so rotated, only once confirmed.
                return self.resolvePending(id, from: original, at: now, on: eventLoop).flatMap { confirmed in
                    guard confirmed != nil else { return eventLoop.makeSucceededFuture(.notFound) }
                    return self.rotate(id, if: condition, to: proposed, grace: grace, attemptsLeft: attemptsLeft - 1, on: eventLoop)
                }
            case .rotatedFrom, nil:
                break
            }
            guard condition.allows(old.version) else { return eventLoop.makeSucceededFuture(.conflict(currentVersion: old.version)) }
            return self.moveOn(old, to: proposed, grace: grace, at: now, on: eventLoop).flatMap { moved in
                switch moved {
                case let .done(outcome):
                    return eventLoop.makeSucceededFuture(outcome)
                case .retry:
                    guard attemptsLeft > 1 else {
                        return eventLoop.makeFailedFuture(SessionStoreError.contended("the session kept changing during the rotation"))
                    }
                    return self.rotate(id, if: condition, to: proposed, grace: grace, attemptsLeft: attemptsLeft - 1, on: eventLoop)
                }
            }
        }
    }

    /// What one attempt at moving a session did.
    private enum Move: Sendable {
        case done(RotateOutcome)
        /// The original was written meanwhile: the copy is withdrawn; start again.
        case retry
    }

    /// Steps (1) to (3) of `rotate` for the live session `old`, read at `now`.
    private func moveOn(_ old: Session, to proposed: SessionID?, grace: Int64, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Move> {
        let store = self.store
        let original = old.handle
        var draft = old
        draft.id = proposed ?? .random()
        draft.version = old.version &+ 1
        draft.updatedAt = now
        draft.expiresAt = min(
            policy.expiry(createdAt: old.createdAt, now: now, permanent: old.permanent, own: old.lifetime),
            now.adding(milliseconds: LifetimePolicy.rotationRecordLifetime)
        )
        draft.rotation = .pendingFrom(original)
        let stored: EventLoopFuture<Session?>
        let copy = draft
        if let proposed {
            // A copy left pending by an earlier attempt of this rotation is replaced.
            stored = store.insert(copy, replacing: true, on: eventLoop).map { Optional(copy) }.flatMapError { error in
                guard (error as? SessionStoreError) == .duplicateID else { return eventLoop.makeFailedFuture(error) }
                return store.withdraw(proposed, pendingFrom: original, at: now, on: eventLoop).flatMap {
                    store.insert(copy, replacing: true, on: eventLoop).map { Optional(copy) }
                }.flatMapError { error in
                    guard (error as? SessionStoreError) == .duplicateID else { return eventLoop.makeFailedFuture(error) }
                    return eventLoop.makeSucceededFuture(nil)
                }
            }
        } else {
            stored = insertWithFreshID(copy, replacing: true, attemptsLeft: 3, on: eventLoop).map { Optional($0) }
        }
        return stored.flatMap { inserted -> EventLoopFuture<Move> in
            guard let copy = inserted else { return eventLoop.makeSucceededFuture(.done(.idTaken)) }
            let successor = copy.handle
            let readableUntil = now.adding(milliseconds: grace)
            let until = now.adding(milliseconds: max(grace, LifetimePolicy.rotationRecordLifetime))
            return store.freeze(old.id, at: old.version, successor: successor, readableUntil: readableUntil, until: until, now: now, on: eventLoop)
                .flatMap { frozen -> EventLoopFuture<Move> in
                    switch frozen {
                    case .frozen, .alreadyRotated(to: successor):
                        return store.update(copy.id, .confirm(from: original), if: .always, at: now, on: eventLoop).map { confirmed in
                            // Not there: removed (deleted, revoked) since it was stored.
                            guard case let .updated(session) = confirmed else { return .done(.notFound) }
                            return .done(.rotated(session))
                        }
                    case .notFound, .conflict, .alreadyRotated, .pending:
                        // Deleted, written or rotated meanwhile: withdraw the copy, then report or retry.
                        // A concurrent rotation won: start again, which reports what the old id is now
                        // (read-only in its window, else gone).
                        return store.withdraw(copy.id, pendingFrom: original, at: now, on: eventLoop).map {
                            switch frozen {
                            case .conflict, .alreadyRotated: return .retry
                            default: return .done(.notFound)
                            }
                        }
                    }
                }
        }
    }

    /// The answer to a retried rotation that had completed: the session under `proposed`
    /// (confirmed on the way if it was still pending).
    private func replay(_ proposed: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotateOutcome> {
        read(proposed, at: now, on: eventLoop).map { found in
            guard let session = found, !session.isFrozen else { return .notFound }
            return .alreadyRotated(session)
        }
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
                // Frozen records of rotated sids go too, but are not sessions of their own.
                let removed = removedSoFar + zip(targets, outcomes).filter { $0.1 == .removed && !$0.0.frozen }.count
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
