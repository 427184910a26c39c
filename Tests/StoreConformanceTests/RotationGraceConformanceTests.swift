import NIOCore
import NIOPosix
import SessionCore
import Testing

/// The rotation grace window (`--rotation-grace`) on every store.
@Suite("Store conformance: rotation grace window")
struct RotationGraceConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy(rotationGrace: 10_000)

    private func service(_ kind: StoreUnderTest) -> SessionService {
        SessionService(store: kind.make(policy: policy, clock: clock), policy: policy, clock: clock)
    }

    private func rotated(_ outcome: SessionService.RotateOutcome) throws -> Session {
        guard case let .rotated(session) = outcome else { throw RotationTestError.unexpected("\(outcome)") }
        return session
    }

    @Test(arguments: StoreUnderTest.allCases)
    func theOldSidReadsTheFrozenStateReadOnlyUntilTheWindowEnds(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let old = try await service.create(data: Array(#"{"cart":[1]}"#.utf8), permanent: false, subject: subject, on: loop).get()
        clock.advance(milliseconds: 1000)
        let rotatedAt = clock.now()
        let new = try rotated(try await service.rotate(old.id, on: loop).get())
        // A write through the new sid after the rotation is never visible through the old one.
        guard case .updated = try await service.update(new.id, dataPatch(#"{"user":42}"#), on: loop).get() else {
            Issue.record("the new sid did not take a write")
            return
        }
        clock.advance(milliseconds: 2000)
        let frozen = try #require(try await service.read(old.id, at: clock.now(), on: loop).get())
        #expect(frozen.isFrozen)
        #expect(frozen.id == old.id)
        #expect(frozen.data == old.data && frozen.version == old.version && frozen.subject == subject)
        #expect(frozen.expiresAt == rotatedAt.adding(milliseconds: 10_000))
        // A touching read is answered as a plain read: nothing slides.
        let touched = try #require(try await service.read(old.id, at: clock.now(), touch: true, on: loop).get())
        #expect(touched.isFrozen && touched.expiresAt == frozen.expiresAt)
        // Writes, touches, deletes and rotates through the old sid are refused, and change nothing.
        #expect(try await service.update(old.id, dataPatch(#"{"x":1}"#), on: loop).get() == .rotated)
        #expect(try await service.update(old.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), on: loop).get() == .rotated)
        #expect(try await service.update(old.id, .touch, on: loop).get() == .rotated)
        #expect(try await service.delete(old.id, on: loop).get() == .rotated)
        #expect(try await service.rotate(old.id, on: loop).get() == .oldRotated)
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get()?.data == old.data)
        // The listing shows the session once, under its new handle.
        #expect(try await service.sessions(of: subject, on: loop).get().map(\.handle) == [new.handle])
        // After the window: 404 as without one.
        clock.advance(milliseconds: 7999)
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() != nil)
        clock.advance(milliseconds: 1)
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
        #expect(try await service.update(old.id, .touch, on: loop).get() == .notFound)
        #expect(try await service.delete(old.id, on: loop).get() == .notFound)
        #expect(try await service.rotate(old.id, on: loop).get() == .notFound)
        #expect(try await service.read(new.id, at: clock.now(), on: loop).get()?.data == Array(#"{"cart":[1],"user":42}"#.utf8))
    }

    @Test(arguments: StoreUnderTest.allCases)
    func deletingTheNewSidEndsTheWindow(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let old = try await service.create(data: Array(#"{"a":1}"#.utf8), permanent: false, on: loop).get()
        let new = try rotated(try await service.rotate(old.id, on: loop).get())
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() != nil)
        #expect(try await service.delete(new.id, on: loop).get() == .removed)
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
        #expect(try await service.store.rotationState(of: old.handle, at: clock.now(), on: loop).get() == .absent)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func loggingOutEverywhereEndsTheWindow(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let old = try await service.create(data: Array(#"{"a":1}"#.utf8), permanent: false, subject: subject, on: loop).get()
        let new = try rotated(try await service.rotate(old.id, on: loop).get())
        #expect(try await service.revokeAll(of: subject, on: loop).get() == 1)
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
        #expect(try await service.read(new.id, at: clock.now(), on: loop).get() == nil)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func revokingTheNewHandleEndsTheWindow(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let old = try await service.create(data: Array(#"{"a":1}"#.utf8), permanent: false, subject: subject, on: loop).get()
        let new = try rotated(try await service.rotate(old.id, on: loop).get())
        #expect(try await service.revoke(new.handle, of: subject, on: loop).get())
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aWindowPerCallIsCappedByTheSetting(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let short = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        _ = try rotated(try await service.rotate(short.id, grace: 2000, on: loop).get())
        let long = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        _ = try rotated(try await service.rotate(long.id, grace: 600_000, on: loop).get())
        let none = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        _ = try rotated(try await service.rotate(none.id, grace: 0, on: loop).get())
        #expect(try await service.read(none.id, at: clock.now(), on: loop).get() == nil)
        clock.advance(milliseconds: 2000)
        #expect(try await service.read(short.id, at: clock.now(), on: loop).get() == nil)
        #expect(try await service.read(long.id, at: clock.now(), on: loop).get() != nil)
        clock.advance(milliseconds: 8000)
        #expect(try await service.read(long.id, at: clock.now(), on: loop).get() == nil)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aRetryWithTheSameProposedSidAnswersTheCompletedRotation(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let old = try await service.create(data: Array(#"{"a":1}"#.utf8), permanent: false, on: loop).get()
        let proposed = SessionID.random()
        let new = try rotated(try await service.rotate(old.id, to: proposed, grace: 0, on: loop).get())
        #expect(new.id == proposed)
        #expect(try await service.rotate(old.id, to: proposed, on: loop).get() == .alreadyRotated(new))
        #expect(try await service.rotate(old.id, to: .random(), on: loop).get() == .notFound)
        // Within the window too.
        let other = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        let next = SessionID.random()
        let moved = try rotated(try await service.rotate(other.id, to: next, on: loop).get())
        #expect(try await service.rotate(other.id, to: next, on: loop).get() == .alreadyRotated(moved))
        #expect(try await service.rotate(other.id, to: .random(), on: loop).get() == .oldRotated)
        // A proposed sid that another session has is refused, and the session stays.
        let third = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        #expect(try await service.rotate(third.id, to: moved.id, on: loop).get() == .idTaken)
        #expect(try await service.read(third.id, at: clock.now(), on: loop).get() == third)
    }
}

enum RotationTestError: Error {
    case unexpected(String)
}
