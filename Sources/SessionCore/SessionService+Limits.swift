import NIOCore

/// Per-subject session limits (`--max-sessions-per-subject`): see `withRoom`.
extension SessionService {
    /// Tells the subject's limit table that `session` was seen at `now` (with a limit only). A
    /// failure is not the write's: the table is only less exact about who was seen last.
    func noteSeen(_ session: Session, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard maxSessionsPerSubject > 0, let subject = session.subject, !session.isFrozen else { return eventLoop.makeSucceededVoidFuture() }
        return store.noteSeen(session.handle, of: subject, lastSeen: now, expiresAt: session.expiresAt, on: eventLoop).recover { _ in }
    }

    /// Runs `body` (which stores `session`) once the session is counted in its subject's limit
    /// table, making room first when the subject has `maxSessionsPerSubject` live sessions:
    /// with `.evictOldest` the least recently seen are revoked, with `.refuse` it fails with
    /// `TooManySessions`. The count is checked and taken in one atomic step of the store, so
    /// concurrent creates on any number of instances never count more than the limit.
    ///
    /// An entry is taken before its session is stored (as the subject index is granted before
    /// the write), so a concurrent create may find it without a session and drop it as dead, or
    /// evict it, while its insert is in flight. So after `body` the entry is taken again: when
    /// the table is full by then, room is made once more (or, refusing, the new session is
    /// removed again and the create fails). The subject therefore ends with at most the limit
    /// of live sessions, whichever instance each create ran on. When `body` fails, the entry is
    /// released. Without a subject or a limit, just `body`.
    func withRoom<T: Sendable>(
        for session: Session, onLimit: LimitPolicy, attemptsLeft: Int, on eventLoop: any EventLoop,
        _ body: @escaping @Sendable () -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        guard let subject = session.subject, maxSessionsPerSubject > 0 else { return body() }
        let store = self.store
        let handle = session.handle
        let now = clock.now()
        return admit(session, to: subject, at: now, on: eventLoop).flatMap { outcome in
            switch outcome {
            case .admitted:
                return body().flatMapError { error in
                    store.release(handle, from: subject, on: eventLoop).recover { _ in }.flatMapThrowing { throw error }
                }.flatMap { value in
                    self.keepRoom(for: session, onLimit: onLimit, attemptsLeft: 200, on: eventLoop).map { value }
                }
            case let .full(entries):
                guard attemptsLeft > 1 else {
                    return eventLoop.makeFailedFuture(SessionStoreError.contended("the subject's sessions kept changing while making room"))
                }
                return self.makeRoom(in: subject, entries, onLimit: onLimit, at: now, on: eventLoop).flatMap {
                    self.withRoom(for: session, onLimit: onLimit, attemptsLeft: attemptsLeft - 1, on: eventLoop, body)
                }
            }
        }
    }

    /// Asks the store for `session`'s entry in `subject`'s limit table.
    private func admit(_ session: Session, to subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<AdmitOutcome> {
        store.admit(
            session.handle, to: subject, max: maxSessionsPerSubject, lastSeen: session.updatedAt, expiresAt: session.expiresAt, at: now,
            on: eventLoop
        )
    }

    /// Takes the entry of the stored `session` again (see `withRoom`), making room when the
    /// table filled up meanwhile; refusing, removes the session again and fails.
    func keepRoom(for session: Session, onLimit: LimitPolicy, attemptsLeft: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let subject = session.subject else { return eventLoop.makeSucceededVoidFuture() }
        let store = self.store
        let handle = session.handle
        let now = clock.now()
        return admit(session, to: subject, at: now, on: eventLoop).flatMap { outcome in
            guard case let .full(entries) = outcome else { return eventLoop.makeSucceededVoidFuture() }
            guard attemptsLeft > 1 else {
                return eventLoop.makeFailedFuture(SessionStoreError.contended("the subject's sessions kept changing while making room"))
            }
            return store.rotationState(of: handle, at: now, on: eventLoop).flatMap { own in
                // Evicted already by a newer create: nothing to keep room for.
                guard own != .absent else { return eventLoop.makeSucceededVoidFuture() }
                return self.makeRoomAgain(for: session, subject, entries, onLimit: onLimit, attemptsLeft: attemptsLeft, at: now, on: eventLoop)
            }
        }
    }

    /// The rest of `keepRoom` once its own session is known to be stored.
    func makeRoomAgain(
        for session: Session, _ subject: Subject, _ entries: [SubjectLimitEntry], onLimit: LimitPolicy, attemptsLeft: Int, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        let store = self.store
        let handle = session.handle
        return makeRoom(in: subject, entries, onLimit: onLimit, at: now, on: eventLoop).flatMapError { error in
            guard error is TooManySessions else { return eventLoop.makeFailedFuture(error) }
            // Refused after all: the session stored meanwhile goes again.
            return store.remove(handle: handle, of: subject, because: .limitEvicted, at: now, on: eventLoop).flatMapThrowing { _ in throw error }
        }.flatMap {
            self.keepRoom(for: session, onLimit: onLimit, attemptsLeft: attemptsLeft - 1, on: eventLoop)
        }
    }

    /// How long an entry whose session is absent may be an insert still in flight (taken before
    /// its session is stored) rather than a session that is gone.
    static let limitReservation: Int64 = 5000

    /// Makes room in `subject`'s full limit table: drops the entries of sessions that are gone
    /// (absent for longer than an insert takes, or frozen by a rotation, whose copy counts
    /// instead); if none is, revokes the least recently seen stored sessions (`.evictOldest`)
    /// or fails with `TooManySessions` (`.refuse`). Entries of inserts in flight are never
    /// evicted: when only they fill the table, it waits a moment for them.
    func makeRoom(
        in subject: Subject, _ entries: [SubjectLimitEntry], onLimit: LimitPolicy, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        let store = self.store
        let limit = maxSessionsPerSubject
        let states = entries.map { store.rotationState(of: $0.handle, at: now, on: eventLoop) }
        return EventLoopFuture.whenAllSucceed(states, on: eventLoop).flatMap { found in
            var dead: [SessionHandle] = []
            var stored: [SubjectLimitEntry] = []
            for (entry, state) in zip(entries, found) {
                switch state {
                case .rotatedTo: dead.append(entry.handle)
                case .absent where entry.lastSeen.milliseconds(until: now) > Self.limitReservation: dead.append(entry.handle)
                case .absent: break
                case .live, .pending: stored.append(entry)
                }
            }
            if !dead.isEmpty {
                let releases = dead.map { store.release($0, from: subject, on: eventLoop) }
                return EventLoopFuture.andAllSucceed(releases, on: eventLoop)
            }
            guard onLimit == .evictOldest else { return eventLoop.makeFailedFuture(TooManySessions(subject: subject, limit: limit)) }
            guard !stored.isEmpty else {
                // Only inserts in flight fill the table: they are counted; wait for them.
                return eventLoop.scheduleTask(in: .milliseconds(Int64.random(in: 2...10))) {}.futureResult
            }
            let excess = entries.count - (limit - 1)
            let victims = stored.sorted { ($0.lastSeen, $0.handle.high, $0.handle.low) < ($1.lastSeen, $1.handle.high, $1.handle.low) }
                .prefix(max(1, excess))
            let evictions = victims.map { victim in
                store.remove(handle: victim.handle, of: subject, because: .limitEvicted, at: now, on: eventLoop).flatMap { _ in
                    store.release(victim.handle, from: subject, on: eventLoop)
                }
            }
            return EventLoopFuture.andAllSucceed(evictions, on: eventLoop)
        }
    }

    /// With a limit: the subject's table counts the copy instead of the original, so a rotation
    /// keeps the subject's count (best effort: a frozen original's entry is dropped anyway when
    /// the table is full).
    func countInstead(_ copy: Session, of original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard maxSessionsPerSubject > 0, let subject = copy.subject else { return eventLoop.makeSucceededVoidFuture() }
        let store = self.store
        return noteSeen(copy, at: now, on: eventLoop).flatMap {
            store.release(original, from: subject, on: eventLoop).recover { _ in }
        }
    }
}
