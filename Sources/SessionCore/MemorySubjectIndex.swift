import NIOConcurrencyHelpers

/// The embedded store's subject index: for each subject, the handles of its sessions, in
/// lock-protected shards by subject.
///
/// Lock order: a session shard may be held while an index shard is taken, never the reverse, so
/// the store can update the index inside a session's critical section without deadlock.
final class MemorySubjectIndex: Sendable {
    private let shards: [NIOLockedValueBox<[Subject: Set<SessionHandle>]>]

    init(shardCount: Int) {
        shards = (0..<shardCount).map { _ in NIOLockedValueBox([:]) }
    }

    private func shard(for subject: Subject) -> NIOLockedValueBox<[Subject: Set<SessionHandle>]> {
        var hasher = Hasher()
        hasher.combine(subject)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    func add(_ handle: SessionHandle, to subject: Subject) {
        _ = shard(for: subject).withLockedValue { $0[subject, default: []].insert(handle) }
    }

    func remove(_ handle: SessionHandle, from subject: Subject) {
        remove([handle], from: subject)
    }

    func remove(_ handles: some Sequence<SessionHandle>, from subject: Subject) {
        shard(for: subject).withLockedValue { table in
            guard var set = table[subject] else { return }
            for handle in handles { set.remove(handle) }
            table[subject] = set.isEmpty ? nil : set
        }
    }

    /// Moves `handle` from one subject's entry to another's when they differ.
    func move(_ handle: SessionHandle, from old: Subject?, to new: Subject?) {
        guard old != new else { return }
        if let old { remove(handle, from: old) }
        if let new { add(handle, to: new) }
    }

    /// A copy of the handles indexed under `subject`.
    func handles(of subject: Subject) -> Set<SessionHandle> {
        shard(for: subject).withLockedValue { $0[subject] ?? [] }
    }

    /// How many entries the index holds over all subjects.
    var entryCount: Int {
        shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
    }
}
