import NIOConcurrencyHelpers
import NIOCore
import SessionCore

/// Wraps a store and fails one step of a rotation as a store outage would: the step named by
/// `fault`, once, either before it reaches the store or after the store did it (the answer was
/// lost: a rotate that answers 503 although it completed).
final class FaultyStore: SessionStore {
    enum Step: Sendable {
        /// Step 2 of a rotation: freezing the original.
        case freeze
        /// Step 3: confirming the copy.
        case confirm
    }

    let base: any SessionStore
    private let armed: NIOLockedValueBox<(Step, afterDoing: Bool)?>

    init(base: any SessionStore, failing step: Step, afterDoing: Bool) {
        self.base = base
        self.armed = NIOLockedValueBox((step, afterDoing))
    }

    /// Whether `step` is to fail now (once), and whether after doing it.
    private func trip(_ step: Step) -> Bool? {
        armed.withLockedValue { armed in
            guard let (armedStep, after) = armed, armedStep == step else { return nil }
            armed = nil
            return after
        }
    }

    private func faulty<T: Sendable>(_ step: Step, on loop: any EventLoop, _ call: () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        guard let after = trip(step) else { return call() }
        let failure = SessionStoreError.unavailable("injected fault")
        guard after else { return loop.makeFailedFuture(failure) }
        return call().flatMapThrowing { _ in throw failure }
    }

    func insert(_ session: Session, replacing: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        base.insert(session, replacing: replacing, on: eventLoop)
    }
    func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        base.load(id, at: now, on: eventLoop)
    }
    func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        guard case .confirm = mutation else { return base.update(id, mutation, if: condition, at: now, on: eventLoop) }
        return faulty(.confirm, on: eventLoop) { base.update(id, mutation, if: condition, at: now, on: eventLoop) }
    }
    func remove(_ id: SessionID, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        base.remove(id, if: condition, at: now, on: eventLoop)
    }
    func sessions(of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]> {
        base.sessions(of: subject, at: now, on: eventLoop)
    }
    func remove(
        handle: SessionHandle, of subject: Subject, because reason: RemovalReason, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        base.remove(handle: handle, of: subject, because: reason, at: now, on: eventLoop)
    }
    func freeze(
        _ id: SessionID, at version: UInt64, successor: SessionHandle, readableUntil: Timestamp, until: Timestamp, now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<FreezeOutcome> {
        faulty(.freeze, on: eventLoop) {
            base.freeze(id, at: version, successor: successor, readableUntil: readableUntil, until: until, now: now, on: eventLoop)
        }
    }
    func withdraw(_ id: SessionID, pendingFrom original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        base.withdraw(id, pendingFrom: original, at: now, on: eventLoop)
    }
    func rotationState(of handle: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotationState> {
        base.rotationState(of: handle, at: now, on: eventLoop)
    }
    func admit(
        _ handle: SessionHandle, to subject: Subject, max: Int, lastSeen: Timestamp, expiresAt: Timestamp, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<AdmitOutcome> {
        base.admit(handle, to: subject, max: max, lastSeen: lastSeen, expiresAt: expiresAt, at: now, on: eventLoop)
    }
    func noteSeen(
        _ handle: SessionHandle, of subject: Subject, lastSeen: Timestamp, expiresAt: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        base.noteSeen(handle, of: subject, lastSeen: lastSeen, expiresAt: expiresAt, on: eventLoop)
    }
    func release(_ handle: SessionHandle, from subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        base.release(handle, from: subject, on: eventLoop)
    }
    var recordsEvents: Bool { base.recordsEvents }

    func events(after: EventID?, limit: Int, on eventLoop: any EventLoop) -> EventLoopFuture<EventPage> {
        base.events(after: after, limit: limit, on: eventLoop)
    }

    func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> { base.checkReady(on: eventLoop) }
}
