import NIOCore
import RedisClient
import SessionCore

/// The subject index on Redis: one sorted set per subject under `prefix + "subject:" + subject`,
/// whose members are session handles and whose scores are times (ms) by which each session is
/// surely gone.
///
/// The index is written before the session: a write that gives a session a subject, or slides
/// its expiry past what the index covers, first "grants" an entry here, then runs the session's
/// script with that grant (the session hash records the cover in `isub`/`iexp`). So a live
/// session is always listed, whichever step fails. Entries are dropped when their score passes
/// (at every grant and listing) and when their session is deleted (a removal names the score it
/// saw, so it never undoes a newer grant). Listings skip, but never drop, entries whose session
/// is absent or belongs to another subject now: an insert may be in flight behind its grant, or
/// a write may still hold an older grant for that subject and claim the entry again, and
/// dropping it then would leave a live session unlisted. So the index holds at most the
/// sessions of the last lifetime and `slack`. Every script touches the index key only, never a
/// session key beside it.
struct RedisSubjectIndex: Sendable {
    let pool: RedisConnectionPool
    let prefix: String
    /// Added to a session's expiry for its entry's score, so that sliding writes need a new
    /// grant only about once per `slack`.
    let slack: Int64

    func key(_ subject: Subject) -> ByteBuffer { ByteBuffer(string: prefix + "subject:" + subject.value) }

    /// Makes the index list `handle` under `subject` until at least `expires + slack`.
    /// - Returns: the score now set (what the session records as its cover).
    func grant(_ handle: SessionHandle, to subject: Subject, until expires: Int64, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Int64> {
        let arguments = [
            ByteBuffer(string: String(now.millisecondsSinceEpoch)), ByteBuffer(string: handle.description),
            ByteBuffer(string: String(expires + slack)),
        ]
        return pool.evaluate(script: RedisScripts.indexAddIndex, keys: [key(subject)], arguments: arguments, on: eventLoop)
            .flatMapErrorThrowing { throw RedisStore.storeError($0) }
            .flatMapThrowing { reply in
                guard let score = reply.int else { throw RedisStore.unexpected(reply, "index grant") }
                return score
            }
    }

    /// The entries of `subject` whose score has not passed at `now`.
    func entries(of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<[(SessionHandle, Int64)]> {
        pool.evaluate(
            script: RedisScripts.indexListIndex, keys: [key(subject)],
            arguments: [ByteBuffer(string: String(now.millisecondsSinceEpoch))], on: eventLoop
        )
        .flatMapErrorThrowing { throw RedisStore.storeError($0) }
        .flatMapThrowing { reply in
            guard case let .array(items) = reply, items.count % 2 == 0 else { throw RedisStore.unexpected(reply, "index list") }
            var entries: [(SessionHandle, Int64)] = []
            entries.reserveCapacity(items.count / 2)
            for pair in stride(from: 0, to: items.count, by: 2) {
                // A member that is not a handle (written by something else) is skipped.
                guard let text = items[pair].string, let handle = SessionHandle(text),
                      let score = items[pair + 1].string.flatMap({ Double($0) })
                else { continue }
                entries.append((handle, Int64(score)))
            }
            return entries
        }
    }

    /// Removes the entries named, each only while its score is still the one given.
    func remove(_ entries: [(SessionHandle, Int64)], from subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard !entries.isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        var arguments = [ByteBuffer(string: String(now.millisecondsSinceEpoch))]
        for (handle, score) in entries {
            arguments.append(ByteBuffer(string: handle.description))
            arguments.append(ByteBuffer(string: String(score)))
        }
        return pool.evaluate(script: RedisScripts.indexRemoveIndex, keys: [key(subject)], arguments: arguments, on: eventLoop)
            .flatMapErrorThrowing { throw RedisStore.storeError($0) }
            .map { _ in }
    }
}
