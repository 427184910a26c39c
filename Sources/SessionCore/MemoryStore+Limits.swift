import NIOCore

extension MemoryStore {
    public func admit(
        _ handle: SessionHandle, to subject: Subject, max: Int, lastSeen: Timestamp, expiresAt: Timestamp, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<AdmitOutcome> {
        let outcome = limits.admit(handle, to: subject, max: max, entry: .init(lastSeen: lastSeen, expiresAt: expiresAt), at: now)
        return eventLoop.makeSucceededFuture(outcome)
    }

    public func noteSeen(
        _ handle: SessionHandle, of subject: Subject, lastSeen: Timestamp, expiresAt: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        limits.noteSeen(handle, of: subject, entry: .init(lastSeen: lastSeen, expiresAt: expiresAt))
        return eventLoop.makeSucceededVoidFuture()
    }

    public func release(_ handle: SessionHandle, from subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        limits.release(handle, from: subject)
        return eventLoop.makeSucceededVoidFuture()
    }
}
