import NIOCore
import RedisClient
import SessionCore

/// Per-subject limits on Redis: one hash per subject under `prefix + "limit:" + subject`
/// (handle -> "lastSeen:expires"), changed by one-key scripts (`RedisScripts+Limits.swift`).
extension RedisStore {
    /// The Redis key of a subject's limit table.
    public func limitKey(for subject: Subject) -> String { prefix + "limit:" + subject.value }

    public func admit(
        _ handle: SessionHandle, to subject: Subject, max: Int, lastSeen: Timestamp, expiresAt: Timestamp, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<AdmitOutcome> {
        let arguments = [
            Self.text(now), ByteBuffer(string: handle.description), ByteBuffer(string: String(max)),
            ByteBuffer(string: "\(lastSeen.millisecondsSinceEpoch):\(expiresAt.millisecondsSinceEpoch)"), Self.text(expiresAt),
        ]
        return pool.evaluate(script: RedisScripts.limitAdmitIndex, keys: [ByteBuffer(string: limitKey(for: subject))], arguments: arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard case let .array(fields) = reply, let status = fields.first?.int, fields.count % 2 == 1 else {
                    throw Self.unexpected(reply, "limit admit")
                }
                if status == 1 { return .admitted }
                var entries: [SubjectLimitEntry] = []
                for pair in stride(from: 1, to: fields.count, by: 2) {
                    // A field that is not a handle (written by something else) is skipped.
                    guard let other = fields[pair].string.flatMap(SessionHandle.init), let seen = fields[pair + 1].string.flatMap({ Int64($0) })
                    else { continue }
                    entries.append(SubjectLimitEntry(handle: other, lastSeen: Timestamp(millisecondsSinceEpoch: seen)))
                }
                return .full(entries)
            }
    }

    public func noteSeen(
        _ handle: SessionHandle, of subject: Subject, lastSeen: Timestamp, expiresAt: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        let now = lastSeen
        let arguments = [
            Self.text(now), ByteBuffer(string: handle.description),
            ByteBuffer(string: "\(lastSeen.millisecondsSinceEpoch):\(expiresAt.millisecondsSinceEpoch)"), Self.text(expiresAt),
        ]
        return pool.evaluate(script: RedisScripts.limitSeenIndex, keys: [ByteBuffer(string: limitKey(for: subject))], arguments: arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .map { _ in }
    }

    public func release(_ handle: SessionHandle, from subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let command = RedisCommand([ByteBuffer(string: "HDEL"), ByteBuffer(string: limitKey(for: subject)), ByteBuffer(string: handle.description)])
        return pool.send(command, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .map { _ in }
    }

    /// Drops the limit table entry of a session just deleted, under the subject `isub` its
    /// removal answered; a failure only leaves an entry that a full table finds dead.
    func dropLimitEntry(_ handle: SessionHandle, _ isub: RESPValue, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let subject = isub.string.flatMap(Subject.init) else { return eventLoop.makeSucceededVoidFuture() }
        return release(handle, from: subject, on: eventLoop).recover { _ in }
    }
}
