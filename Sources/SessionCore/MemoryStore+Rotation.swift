import NIOCore

extension MemoryStore {
    public func freeze(
        _ id: SessionID, at version: UInt64, successor: SessionHandle, readableUntil: Timestamp, until: Timestamp, now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<FreezeOutcome> {
        if let refusal = journal?.writeRefusal() { return eventLoop.makeFailedFuture(refusal) }
        let handle = SessionHandle(id)
        let journal = self.journal
        let (outcome, ticket) = withLiveSession(handle, at: now) { table, found -> (FreezeOutcome, JournalTicket?) in
            guard var session = found else { return (.notFound, nil) }
            switch session.rotation {
            case let .rotatedTo(next, _): return (.alreadyRotated(to: next), nil)
            case .pendingFrom: return (.pending, nil)
            case .rotatedFrom, nil: break
            }
            guard session.version == version else { return (.conflict(currentVersion: session.version), nil) }
            // No window: readable until the epoch, so that a write whose clock read a little
            // earlier than the rotation's is told `.notFound`, not `.rotated`.
            let window = readableUntil > now
            session.rotation = .rotatedTo(successor, readableUntil: window ? readableUntil : Timestamp(millisecondsSinceEpoch: 0))
            session.expiresAt = until
            if !window { session.data = Array("{}".utf8) }
            table[handle] = session
            eventRing?.append(.rotated, handle: successor, from: handle, subject: session.subject, device: session.device, time: now)
            return (.frozen, journal?.record(.put(handle, session)))
        }
        return answer(outcome, after: ticket, on: eventLoop)
    }

    public func withdraw(_ id: SessionID, pendingFrom original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        if let refusal = journal?.writeRefusal() { return eventLoop.makeFailedFuture(refusal) }
        let (_, ticket, _) = remove(SessionHandle(id), at: now, event: nil) { session in
            session.rotation == .pendingFrom(original) ? nil : .notFound
        }
        return answer((), after: ticket, on: eventLoop)
    }

    public func rotationState(of handle: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotationState> {
        let state = withLiveSession(handle, at: now) { _, found -> RotationState in
            guard let session = found else { return .absent }
            switch session.rotation {
            case let .rotatedTo(next, _): return .rotatedTo(next)
            case .pendingFrom: return .pending
            case .rotatedFrom, nil: return .live(version: session.version)
            }
        }
        return eventLoop.makeSucceededFuture(state)
    }
}
