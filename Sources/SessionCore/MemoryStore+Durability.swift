extension MemoryStore {
    /// The placeholder id of a restored session: the sid is never at rest, so a session read
    /// back from disk knows only its handle. Calls that find it by sid put the sid back.
    public static let restoredID = SessionID(high: 0, low: 0)

    /// Loads sessions that a journal recovered, before the store serves: each under its handle,
    /// with its subject index entry. Not recorded in the journal (they come from it). Sessions
    /// already held under the same handles are replaced.
    /// - Parameter sessions: handle and session; the session's `id` is ignored.
    public func restore(_ sessions: some Sequence<(SessionHandle, Session)>) {
        // Sorted into shards first, so that each shard is locked once and grows once.
        var byShard = [[(SessionHandle, Session)]](repeating: [], count: shards.count)
        for (handle, session) in sessions {
            var session = session
            session.id = Self.restoredID
            byShard[Int(handle.low & UInt64(shards.count - 1))].append((handle, session))
        }
        let index = self.index
        for (shard, entries) in zip(shards, byShard) where !entries.isEmpty {
            shard.withLockedValue { table in
                table.reserveCapacity(table.count + entries.count)
                for (handle, session) in entries {
                    if let old = table.updateValue(session, forKey: handle) {
                        if let subject = old.subject { index.remove(handle, from: subject) }
                    } else {
                        held.add(1, ordering: .relaxed)
                    }
                    if let subject = session.subject {
                        index.add(handle, to: subject)
                        if session.rotation == nil || !session.isFrozen {
                            limits.noteSeen(handle, of: subject, entry: .init(lastSeen: session.updatedAt, expiresAt: session.expiresAt))
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with every session live at `now` and its handle, one shard at a time: each
    /// shard is copied inside its critical section (a short pause of that shard only) and
    /// visited outside it, so a snapshot of a large store never holds a lock for long.
    ///
    /// A change recorded before the call began is always seen; changes made during the call may
    /// or may not be (a journal replays those over the snapshot).
    /// - Parameter body: returns false to stop early.
    /// - Returns: false when `body` stopped it.
    @discardableResult
    public func forEachLiveSession(at now: Timestamp, _ body: (SessionHandle, Session) throws -> Bool) rethrows -> Bool {
        for shard in shards {
            let copy: [(SessionHandle, Session)] = shard.withLockedValue { table in
                var live: [(SessionHandle, Session)] = []
                live.reserveCapacity(table.count)
                for (handle, session) in table where session.isLive(at: now) { live.append((handle, session)) }
                return live
            }
            for (handle, session) in copy {
                guard try body(handle, session) else { return false }
            }
        }
        return true
    }
}
