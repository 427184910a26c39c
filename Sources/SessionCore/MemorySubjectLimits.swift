import NIOConcurrencyHelpers

/// The embedded store's per-subject limit tables (see `SessionStore.admit`): for each subject,
/// its counted sessions' last-seen times and expiries, in lock-protected shards by subject.
/// Its locks are leaves: taken alone or inside a session shard's, never the reverse. Not journaled: a durable store rebuilds the
/// tables from the sessions it restores.
final class MemorySubjectLimits: Sendable {
    struct Entry: Sendable {
        var lastSeen: Timestamp
        var expiresAt: Timestamp
    }

    private let shards: [NIOLockedValueBox<[Subject: [SessionHandle: Entry]]>]

    init(shardCount: Int) {
        shards = (0..<shardCount).map { _ in NIOLockedValueBox([:]) }
    }

    private func shard(for subject: Subject) -> NIOLockedValueBox<[Subject: [SessionHandle: Entry]]> {
        var hasher = Hasher()
        hasher.combine(subject)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    func admit(_ handle: SessionHandle, to subject: Subject, max: Int, entry: Entry, at now: Timestamp) -> AdmitOutcome {
        shard(for: subject).withLockedValue { table in
            var entries = (table[subject] ?? [:]).filter { $0.value.expiresAt > now }
            let others = entries.filter { $0.key != handle }
            guard others.count < max else {
                table[subject] = entries
                return .full(others.map { SubjectLimitEntry(handle: $0.key, lastSeen: $0.value.lastSeen) })
            }
            entries[handle] = entry
            table[subject] = entries
            return .admitted
        }
    }

    func noteSeen(_ handle: SessionHandle, of subject: Subject, entry: Entry) {
        shard(for: subject).withLockedValue { $0[subject, default: [:]][handle] = entry }
    }

    func release(_ handle: SessionHandle, from subject: Subject) {
        shard(for: subject).withLockedValue { table in
            table[subject]?[handle] = nil
            if table[subject]?.isEmpty == true { table[subject] = nil }
        }
    }

    /// Drops every entry past its expiry at `now` (the sweeper's pass).
    func sweep(at now: Timestamp) {
        for shard in shards {
            shard.withLockedValue { table in
                for (subject, entries) in table {
                    let live = entries.filter { $0.value.expiresAt > now }
                    table[subject] = live.isEmpty ? nil : live
                }
            }
        }
    }
}
