import NIOCore

/// Rotation: a new sid for a session, the grace window of the old one, and finding out what a
/// failed rotate did (see `rotate`).
extension SessionService {
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

    func rotate(
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
    enum Move: Sendable {
        case done(RotateOutcome)
        /// The original was written meanwhile: the copy is withdrawn; start again.
        case retry
    }

    /// Steps (1) to (3) of `rotate` for the live session `old`, read at `now`.
    func moveOn(_ old: Session, to proposed: SessionID?, grace: Int64, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Move> {
        let store = self.store
        let original = old.handle
        var draft = old
        draft.id = proposed ?? .random()
        draft.version = old.version &+ 1
        draft.updatedAt = now
        draft.lastSeenAt = now
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
                        return store.update(copy.id, .confirm(from: original), if: .always, at: now, on: eventLoop).flatMap { confirmed in
                            // Not there: removed (deleted, revoked) since it was stored.
                            guard case let .updated(session) = confirmed else { return eventLoop.makeSucceededFuture(.done(.notFound)) }
                            return self.countInstead(session, of: original, at: now, on: eventLoop).map { .done(.rotated(session)) }
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
    func replay(_ proposed: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotateOutcome> {
        read(proposed, at: now, on: eventLoop).map { found in
            guard let session = found, !session.isFrozen else { return .notFound }
            return .alreadyRotated(session)
        }
    }

    /// Finds out whether the rotation that made the pending copy `id` of `original` completed:
    /// when the original is frozen naming this copy, confirms the copy and returns it; when the
    /// original is gone or names another copy, the rotation can never complete and the copy is
    /// withdrawn; while the original is live (the rotation failed, or is under way) the copy is
    /// not served and expires by itself. Returns nil unless confirmed.
    func resolvePending(_ id: SessionID, from original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
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
}
