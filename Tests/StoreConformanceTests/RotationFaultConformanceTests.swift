import NIOCore
import NIOPosix
import SessionCore
import Testing

/// A rotation that fails between its steps (a fault injected by `FaultyStore`) on every store:
/// its outcome is knowable by a retry or a read of the proposed sid, a 503 never leaves two live
/// sids, and an unfinished copy is never served and is cleaned up.
@Suite("Store conformance: rotation under faults")
struct RotationFaultConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy()

    private func service(_ kind: StoreUnderTest, failing step: FaultyStore.Step, afterDoing: Bool) -> SessionService {
        let store = FaultyStore(base: kind.make(policy: policy, clock: clock), failing: step, afterDoing: afterDoing)
        return SessionService(store: store, policy: policy, clock: clock)
    }

    /// Creates a session of a fresh subject and rotates it to a proposed sid; the rotate fails.
    private func failedRotation(_ service: SessionService) async throws -> (old: Session, proposed: SessionID, subject: Subject) {
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let old = try await service.create(data: Array(#"{"cart":[1]}"#.utf8), permanent: false, subject: subject, on: loop).get()
        let proposed = SessionID.random()
        await #expect(throws: SessionStoreError.unavailable("")) { try await service.rotate(old.id, to: proposed, on: loop).get() }
        return (old, proposed, subject)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aFailureBeforeTheFreezeLeavesTheOldSidLiveAndTheCopyUnserved(kind: StoreUnderTest) async throws {
        let service = service(kind, failing: .freeze, afterDoing: false)
        let (old, proposed, subject) = try await failedRotation(service)
        // Only the old sid is live: the copy is not served, listed or writable.
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == old)
        #expect(try await service.read(proposed, at: clock.now(), on: loop).get() == nil)
        #expect(try await service.read(proposed, at: clock.now(), touch: true, on: loop).get() == nil)
        #expect(try await service.update(proposed, dataPatch(#"{"x":1}"#), on: loop).get() == .notFound)
        #expect(try await service.sessions(of: subject, on: loop).get().map(\.handle) == [old.handle])
        // The retry with the same sid performs the rotation.
        guard case let .rotated(new) = try await service.rotate(old.id, to: proposed, on: loop).get() else {
            Issue.record("the retry did not rotate")
            return
        }
        #expect(new.id == proposed && new.data == old.data && new.version == old.version + 1)
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
        #expect(try await service.read(proposed, at: clock.now(), on: loop).get() == new)
        #expect(try await service.sessions(of: subject, on: loop).get().map(\.handle) == [new.handle])
    }

    @Test(arguments: StoreUnderTest.allCases)
    func anUnfinishedCopyIsDeletedWhenItsOriginalGoesAndExpiresSoonAnyway(kind: StoreUnderTest) async throws {
        let service = service(kind, failing: .freeze, afterDoing: false)
        let (old, proposed, _) = try await failedRotation(service)
        #expect(try await service.store.rotationState(of: SessionHandle(proposed), at: clock.now(), on: loop).get() == .pending)
        // The original is deleted: the copy can never be completed, and is deleted when found.
        #expect(try await service.delete(old.id, on: loop).get() == .removed)
        #expect(try await service.read(proposed, at: clock.now(), on: loop).get() == nil)
        #expect(try await service.store.rotationState(of: SessionHandle(proposed), at: clock.now(), on: loop).get() == .absent)

        // One nobody finds is gone a minute after the rotation, not a lifetime later.
        let other = try await failedRotation(self.service(kind, failing: .freeze, afterDoing: false))
        let later = clock.now().adding(milliseconds: LifetimePolicy.rotationRecordLifetime)
        #expect(try await service.store.rotationState(of: SessionHandle(other.proposed), at: later, on: loop).get() == .absent)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aRotateThatFailedAfterTheFreezeIsFoundCompleteByARetry(kind: StoreUnderTest) async throws {
        let service = service(kind, failing: .freeze, afterDoing: true)
        let (old, proposed, subject) = try await failedRotation(service)
        // The 503 was wrong: the rotation completed. The old sid is gone (no grace window).
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
        guard case let .alreadyRotated(new) = try await service.rotate(old.id, to: proposed, on: loop).get() else {
            Issue.record("the retry did not find the completed rotation")
            return
        }
        #expect(new.id == proposed && new.data == old.data && new.version == old.version + 1)
        #expect(new.expiresAt == clock.now().adding(milliseconds: policy.standard))
        #expect(try await service.read(proposed, at: clock.now(), on: loop).get() == new)
        #expect(try await service.sessions(of: subject, on: loop).get().map(\.handle) == [new.handle])
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aRotateThatFailedAtTheConfirmationIsServedToAReadOfTheNewSid(kind: StoreUnderTest) async throws {
        let service = service(kind, failing: .confirm, afterDoing: false)
        let (old, proposed, _) = try await failedRotation(service)
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
        // A write through the new sid confirms it on the way and lands.
        guard case let .updated(written) = try await service.update(proposed, dataPatch(#"{"user":42}"#), on: loop).get() else {
            Issue.record("the new sid did not take a write")
            return
        }
        #expect(written.version == old.version + 2)
        // Confirmed: it now lives its full lifetime, not the minute of an unfinished copy.
        let later = clock.now().adding(milliseconds: LifetimePolicy.rotationRecordLifetime + 1000)
        #expect(try await service.read(proposed, at: later, on: loop).get()?.data == Array(#"{"cart":[1],"user":42}"#.utf8))
        guard case .alreadyRotated = try await service.rotate(old.id, to: proposed, on: loop).get() else {
            Issue.record("the retry did not find the completed rotation")
            return
        }
    }
}
