import NIOCore
import SessionCore

/// A `SessionStore` that times each call of the store it wraps for `/metrics`, and notes
/// whether the store answered (`sessiond_store_up`). Answers are passed on unchanged.
package struct MeasuredStore: SessionStore {
    package let base: any SessionStore
    package let metrics: SessiondMetrics

    package init(base: any SessionStore, metrics: SessiondMetrics) {
        self.base = base
        self.metrics = metrics
    }

    private func measure<T: Sendable>(_ operation: SessiondMetrics.StoreOperation, _ call: () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let started = ContinuousClock.now
        let future = call()
        let metrics = self.metrics
        future.whenComplete { result in
            var answered = true
            if case let .failure(error) = result, let storeError = error as? SessionStoreError, storeError.isTransient,
               storeError.code != .contended {
                answered = false
                if let refusal = storeError.refusal { metrics.recordRefusal(refusal) }
            }
            metrics.recordStore(operation, duration: ContinuousClock.now - started, answered: answered)
        }
        return future
    }

    package func insert(_ session: Session, replacing: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        measure(.insert) { base.insert(session, replacing: replacing, on: eventLoop) }
    }

    package func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        measure(.load) { base.load(id, at: now, on: eventLoop) }
    }

    package func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        measure(.update) { base.update(id, mutation, if: condition, at: now, on: eventLoop) }
    }

    package func remove(_ id: SessionID, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        measure(.remove) { base.remove(id, if: condition, at: now, on: eventLoop) }
    }

    package func sessions(of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]> {
        measure(.list) { base.sessions(of: subject, at: now, on: eventLoop) }
    }

    package func remove(
        handle: SessionHandle, of subject: Subject, because reason: RemovalReason, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        measure(.removeByHandle) { base.remove(handle: handle, of: subject, because: reason, at: now, on: eventLoop) }
    }

    package func freeze(
        _ id: SessionID, at version: UInt64, successor: SessionHandle, readableUntil: Timestamp, until: Timestamp, now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<FreezeOutcome> {
        measure(.freeze) {
            base.freeze(id, at: version, successor: successor, readableUntil: readableUntil, until: until, now: now, on: eventLoop)
        }
    }

    package func withdraw(_ id: SessionID, pendingFrom original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        measure(.withdraw) { base.withdraw(id, pendingFrom: original, at: now, on: eventLoop) }
    }

    package func rotationState(of handle: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotationState> {
        measure(.rotationState) { base.rotationState(of: handle, at: now, on: eventLoop) }
    }

    package func admit(
        _ handle: SessionHandle, to subject: Subject, max: Int, lastSeen: Timestamp, expiresAt: Timestamp, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<AdmitOutcome> {
        measure(.limitAdmit) { base.admit(handle, to: subject, max: max, lastSeen: lastSeen, expiresAt: expiresAt, at: now, on: eventLoop) }
    }

    package func noteSeen(
        _ handle: SessionHandle, of subject: Subject, lastSeen: Timestamp, expiresAt: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        measure(.limitSeen) { base.noteSeen(handle, of: subject, lastSeen: lastSeen, expiresAt: expiresAt, on: eventLoop) }
    }

    package func release(_ handle: SessionHandle, from subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        measure(.limitRelease) { base.release(handle, from: subject, on: eventLoop) }
    }

    package var recordsEvents: Bool { base.recordsEvents }

    package func events(after: EventID?, limit: Int, on eventLoop: any EventLoop) -> EventLoopFuture<EventPage> {
        measure(.events) { base.events(after: after, limit: limit, on: eventLoop) }
    }

    package func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        measure(.ready) { base.checkReady(on: eventLoop) }
    }
}
