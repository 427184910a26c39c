import NIOCore
import NIOPosix
import SessionCore
import Testing

/// Subjects: listing, revoking, and an index that never lists a gone session and never grows
/// without bound, on every store.
@Suite("Store conformance: subject index")
struct SubjectIndexConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    // Lifetimes long enough that Redis (which expires keys by the real clock) never drops a
    // session while a slow machine is still creating the rest; the tests move the manual clock.
    let policy = LifetimePolicy(permanent: 2_400_000, standard: 600_000, absolute: nil)

    private func service(_ kind: StoreUnderTest) -> SessionService {
        SessionService(store: kind.make(policy: policy, clock: clock), policy: policy, clock: clock)
    }

    private func handles(_ service: SessionService, _ subject: Subject) async throws -> Set<SessionHandle> {
        Set(try await service.sessions(of: subject, on: loop).get().map(\.handle))
    }

    @Test(arguments: StoreUnderTest.allCases)
    func listRevokeAllAndRevokeAllButOne(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let alice = try #require(Subject("alice-\(SessionID.random())"))
        let bob = try #require(Subject("bob/\(SessionID.random())"))
        var sessions: [Session] = []
        for permanent in [false, true, false] {
            sessions.append(try await service.create(data: Array("{}".utf8), permanent: permanent, subject: alice, on: loop).get())
            clock.advance(milliseconds: 1)
        }
        let other = try await service.create(data: Array("{}".utf8), permanent: false, subject: bob, on: loop).get()
        _ = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()

        let listed = try await service.sessions(of: alice, on: loop).get()
        #expect(listed == sessions.map(\.summary))
        #expect(try await handles(service, bob) == [other.handle])

        let kept = sessions[1]
        #expect(try await service.revokeAll(of: alice, except: kept.handle, on: loop).get() == 2)
        #expect(try await handles(service, alice) == [kept.handle])
        for session in sessions {
            let found = try await service.read(session.id, at: clock.now(), on: loop).get()
            #expect((found != nil) == (session.id == kept.id))
        }
        #expect(try await service.revokeAll(of: alice, on: loop).get() == 1)
        #expect(try await handles(service, alice) == [])
        #expect(try await service.read(kept.id, at: clock.now(), on: loop).get() == nil)
        #expect(try await handles(service, bob) == [other.handle])
    }

    @Test(arguments: StoreUnderTest.allCases)
    func revokeOneByHandleOnlyWithinItsSubject(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let alice = try #require(Subject("alice-\(SessionID.random())"))
        let mallory = try #require(Subject("mallory-\(SessionID.random())"))
        let session = try await service.create(data: Array("{}".utf8), permanent: false, subject: alice, on: loop).get()
        #expect(try await service.revoke(session.handle, of: mallory, on: loop).get() == false)
        #expect(try await service.read(session.id, at: clock.now(), on: loop).get() != nil)
        #expect(try await service.revoke(session.handle, of: alice, on: loop).get() == true)
        #expect(try await service.read(session.id, at: clock.now(), on: loop).get() == nil)
        #expect(try await handles(service, alice) == [])
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aSessionIsListedUnderItsCurrentSubjectOnly(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let first = try #require(Subject("first-\(SessionID.random())"))
        let second = try #require(Subject("second-\(SessionID.random())"))
        let session = try await service.create(data: Array("{}".utf8), permanent: false, subject: first, on: loop).get()
        let move = SessionPatch(data: nil, permanent: nil, subject: .set(second), maxDataBytes: 100)
        _ = try await service.update(session.id, .patch(move), on: loop).get()
        #expect(try await handles(service, first) == [])
        #expect(try await handles(service, second) == [session.handle])
        _ = try await service.update(session.id, .replace(data: Array("{}".utf8), permanent: false, subject: first, lifetime: nil), on: loop).get()
        #expect(try await handles(service, first) == [session.handle])
        #expect(try await handles(service, second) == [])
        _ = try await service.update(session.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), on: loop).get()
        #expect(try await handles(service, first) == [])
        // Revoking a subject the session left does not touch it.
        #expect(try await service.revokeAll(of: second, on: loop).get() == 0)
        #expect(try await service.read(session.id, at: clock.now(), on: loop).get() != nil)
        _ = try await service.delete(session.id, on: loop).get()
        #expect(try await handles(service, first) == [])
    }

    @Test(arguments: StoreUnderTest.allCases)
    func expiredSessionsAreNeverListedAndTheIndexStaysBounded(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("busy-\(SessionID.random())"))
        for _ in 0..<200 {
            _ = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        }
        let listed = try await service.sessions(of: subject, on: loop).get()
        #expect(listed.count == 200)
        clock.advance(milliseconds: policy.standard)
        // Expired to the millisecond: not listed, whatever the index still holds.
        #expect(try await service.sessions(of: subject, on: loop).get().isEmpty)
        clock.advance(milliseconds: 2 * policy.standard)
        let fresh = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        #expect(try await handles(service, subject) == [fresh.handle])
        #expect(try await kind.indexEntryCount(service.store, subject) == 1)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func touchesPastTheIndexCoverKeepTheSessionListed(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("active-\(SessionID.random())"))
        let session = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        // Each step slides the expiry; after a few lifetimes every early index entry would have
        // lapsed, so the session is listed only if the cover moved along.
        for step in 0..<6 {
            clock.advance(milliseconds: policy.standard * 3 / 4)
            let mutation: SessionMutation = step % 2 == 0 ? .touch : dataPatch(#"{"step":\#(step)}"#)
            #expect(try await service.update(session.id, mutation, on: loop).get().session != nil)
            #expect(try await handles(service, subject) == [session.handle], "step \(step)")
        }
        // The permanent lifetime is longer than the cover a standard session had.
        let permanent = SessionPatch(data: nil, permanent: true, subject: .keep, maxDataBytes: 100)
        #expect(try await service.update(session.id, .patch(permanent), on: loop).get().session != nil)
        clock.advance(milliseconds: policy.permanent - 1)
        #expect(try await handles(service, subject) == [session.handle])
    }
}
