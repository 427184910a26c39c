import NIOCore
import RedisClient
import SessionCore

/// The steps of a rotation on Redis, each one script on one key (see `RedisScripts+Rotation`).
extension RedisStore {
    public func freeze(
        _ id: SessionID, at version: UInt64, successor: SessionHandle, readableUntil: Timestamp, until: Timestamp, now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<FreezeOutcome> {
        let arguments = [
            Self.text(now), ByteBuffer(string: String(version)), ByteBuffer(string: successor.description),
            Self.text(readableUntil), Self.text(until),
        ]
        let call = scriptKeys(SessionHandle(id), arguments)
        return pool.evaluate(script: RedisScripts.freezeIndex, keys: call.keys, arguments: call.arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard case let .array(fields) = reply, let status = fields.first?.int else { throw Self.unexpected(reply, "freeze") }
                switch (status, fields.count) {
                case (1, _): return .frozen
                case (0, _): return .notFound
                case (6, _): return .pending
                case (2, 2):
                    guard let current = fields[1].int else { break }
                    return .conflict(currentVersion: UInt64(current))
                case (7, 2):
                    guard let next = fields[1].string.flatMap(SessionHandle.init) else { break }
                    return .alreadyRotated(to: next)
                default: break
                }
                throw Self.unexpected(reply, "freeze")
            }
    }

    public func withdraw(_ id: SessionID, pendingFrom original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let handle = SessionHandle(id)
        return pool.evaluate(
            script: RedisScripts.withdrawIndex, keys: [keyBuffer(handle)], arguments: [ByteBuffer(string: original.description)], on: eventLoop
        )
        .flatMapErrorThrowing { throw Self.storeError($0) }
        .flatMap { reply in
            guard case let .array(fields) = reply, fields.count == 3, fields[0].int == 1 else { return eventLoop.makeSucceededVoidFuture() }
            return self.dropIndexEntry(handle, fields[1], fields[2], at: now, on: eventLoop)
        }
    }

    public func rotationState(of handle: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotationState> {
        let command = RedisCommand([
            ByteBuffer(string: "HMGET"), keyBuffer(handle), ByteBuffer(string: "version"), ByteBuffer(string: "expires"),
            ByteBuffer(string: "rotated"), ByteBuffer(string: "pending"),
        ])
        return pool.send(command, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard case let .array(fields) = reply, fields.count == 4 else { throw Self.unexpected(reply, "HMGET") }
                guard let version = fields[0].int, let expires = fields[1].int, now.millisecondsSinceEpoch < expires else { return .absent }
                if let next = fields[2].string.flatMap(SessionHandle.init) { return .rotatedTo(next) }
                if fields[3].bytes != nil { return .pending }
                return .live(version: UInt64(version))
            }
    }

    /// Removes the frozen record of `original` if it still names `successor`, which was just
    /// removed (its grace window ends with it), and then its index entry. A failure here only
    /// leaves the frozen record until it expires (at most a minute, or the grace window).
    func endWindow(of original: SessionHandle, successor: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        pool.evaluate(
            script: RedisScripts.endWindowIndex, keys: [keyBuffer(original)], arguments: [ByteBuffer(string: successor.description)], on: eventLoop
        )
        .flatMap { reply in
            guard case let .array(fields) = reply, fields.count == 3, fields[0].int == 1 else { return eventLoop.makeSucceededVoidFuture() }
            return self.dropIndexEntry(original, fields[1], fields[2], at: now, on: eventLoop)
        }
        .recover { _ in }
    }

    /// Drops the index entry (subject `isub`, score `iexp`, as a removal script answered them)
    /// of a session just deleted; a failure only leaves an entry that listings skip.
    func dropIndexEntry(_ handle: SessionHandle, _ isub: RESPValue, _ iexp: RESPValue, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let covered = isub.string.flatMap(Subject.init), let score = iexp.int else { return eventLoop.makeSucceededVoidFuture() }
        return index.remove([(handle, score)], from: covered, at: now, on: eventLoop).recover { _ in }
    }

    /// The rotation mark from the fields rotated, grace, pending and from (as HMGET gives them).
    static func rotation(_ fields: ArraySlice<RESPValue>) -> RotationMark? {
        let values = Array(fields)
        guard values.count == 4 else { return nil }
        if let next = values[0].string.flatMap(SessionHandle.init) {
            return .rotatedTo(next, readableUntil: Timestamp(millisecondsSinceEpoch: values[1].int ?? 0))
        }
        guard let original = values[3].string.flatMap(SessionHandle.init) else { return nil }
        return values[2].bytes != nil ? .pendingFrom(original) : .rotatedFrom(original)
    }
}
