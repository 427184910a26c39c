import NIOCore
import NIOPosix
import SessionCore
import Testing

/// A session's own lifetime, and creation under an id the app minted, on every store.
@Suite("Store conformance: own lifetime and app-minted ids")
struct LifetimeConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy(permanent: 31 * 86_400_000, standard: 86_400_000, absolute: nil)

    private func service(_ kind: StoreUnderTest, policy: LifetimePolicy? = nil) -> SessionService {
        let policy = policy ?? self.policy
        return SessionService(store: kind.make(policy: policy, clock: clock), policy: policy, clock: clock)
    }

    private func patch(lifetime: MemberChange<Int64>, permanent: Bool? = nil) -> SessionMutation {
        .patch(SessionPatch(data: nil, permanent: permanent, subject: .keep, lifetime: lifetime, maxDataBytes: 65_536))
    }

    @Test(arguments: StoreUnderTest.allCases)
    func anOwnLifetimeReplacesThePermanencesAndSlides(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let created = try await service.create(data: Array("{}".utf8), permanent: true, lifetime: 300_000, on: loop).get()
        #expect(created.lifetime == 300_000)
        #expect(created.expiresAt == clock.now().adding(milliseconds: 300_000))
        #expect(try await service.read(created.id, at: clock.now(), on: loop).get()?.lifetime == 300_000)

        clock.advance(milliseconds: 200_000)
        let touched = try #require(try await service.update(created.id, .touch, on: loop).get().session)
        #expect(touched.lifetime == 300_000 && touched.expiresAt == clock.now().adding(milliseconds: 300_000))

        clock.advance(milliseconds: 299_999)
        #expect(try await service.read(created.id, at: clock.now(), on: loop).get() != nil)
        clock.advance(milliseconds: 1)
        #expect(try await service.read(created.id, at: clock.now(), on: loop).get() == nil)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aPatchKeepsSetsOrClearsTheLifetime(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let created = try await service.create(data: Array("{}".utf8), permanent: false, lifetime: 60_000, on: loop).get()

        let kept = try #require(try await service.update(created.id, dataPatch(#"{"a":1}"#), on: loop).get().session)
        #expect(kept.lifetime == 60_000 && kept.expiresAt == clock.now().adding(milliseconds: 60_000))

        let set = try #require(try await service.update(created.id, patch(lifetime: .set(120_000)), on: loop).get().session)
        #expect(set.lifetime == 120_000 && set.expiresAt == clock.now().adding(milliseconds: 120_000))

        let cleared = try #require(try await service.update(created.id, patch(lifetime: .set(nil), permanent: true), on: loop).get().session)
        #expect(cleared.lifetime == nil && cleared.expiresAt == clock.now().adding(milliseconds: policy.permanent))
        #expect(try await service.read(created.id, at: clock.now(), on: loop).get() == cleared)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aReplaceStatesTheLifetimeToo(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let created = try await service.create(data: Array("{}".utf8), permanent: false, lifetime: 60_000, on: loop).get()
        let replaced = try #require(try await service.update(
            created.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), on: loop
        ).get().session)
        #expect(replaced.lifetime == nil && replaced.expiresAt == clock.now().adding(milliseconds: policy.standard))
        let again = try #require(try await service.update(
            created.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: 600_000), on: loop
        ).get().session)
        // (Minutes, not seconds: Redis expires keys by the real clock, and a loaded machine may
        // take seconds between the write and the read.)
        #expect(again.lifetime == 600_000)
        #expect(try await service.read(created.id, at: clock.now(), on: loop).get() == again)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func theAbsoluteCapStillHolds(kind: StoreUnderTest) async throws {
        let capped = LifetimePolicy(permanent: policy.permanent, standard: policy.standard, absolute: 100_000)
        let service = service(kind, policy: capped)
        let created = try await service.create(data: Array("{}".utf8), permanent: false, lifetime: 3_600_000, on: loop).get()
        #expect(created.expiresAt == clock.now().adding(milliseconds: 100_000))
        clock.advance(milliseconds: 50_000)
        let touched = try #require(try await service.update(created.id, .touch, on: loop).get().session)
        #expect(touched.expiresAt == created.createdAt.adding(milliseconds: 100_000))
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aRotationKeepsTheLifetime(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let created = try await service.create(data: Array("{}".utf8), permanent: false, lifetime: 90_000, on: loop).get()
        clock.advance(milliseconds: 10_000)
        guard case let .rotated(new) = try await service.rotate(created.id, on: loop).get() else {
            Issue.record("expected a rotation")
            return
        }
        #expect(new.lifetime == 90_000 && new.expiresAt == clock.now().adding(milliseconds: 90_000))
        #expect(try await service.read(new.id, at: clock.now(), on: loop).get() == new)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func anAppMintedIDIsCreatedOnceAndNeverOverwritten(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let id = SessionID.random()
        guard case let .created(first) = try await service.create(id: id, data: Array(#"{"n":1}"#.utf8), permanent: false, on: loop).get() else {
            Issue.record("expected a creation")
            return
        }
        #expect(first.id == id && first.version == 1)
        let second = try await service.create(id: id, data: Array(#"{"n":2}"#.utf8), permanent: true, lifetime: 1_000, on: loop).get()
        #expect(second == .idTaken)
        #expect(try await service.read(id, at: clock.now(), on: loop).get() == first)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func anExpiredOrDeletedIDMayBeCreatedAgain(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let id = SessionID.random()
        _ = try await service.create(id: id, data: Array("{}".utf8), permanent: false, lifetime: 1_000, on: loop).get()
        clock.advance(milliseconds: 1_000)
        guard case .created = try await service.create(id: id, data: Array("{}".utf8), permanent: false, on: loop).get() else {
            Issue.record("an expired id should be free")
            return
        }
        _ = try await service.delete(id, on: loop).get()
        guard case .created = try await service.create(id: id, data: Array("{}".utf8), permanent: false, on: loop).get() else {
            Issue.record("a deleted id should be free")
            return
        }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func racingCreatesUnderOneIDHaveOneWinner(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let group = MultiThreadedEventLoopGroup.singleton
        for _ in 0..<20 {
            let id = SessionID.random()
            let outcomes = try await withThrowingTaskGroup(of: SessionService.CreateOutcome.self) { tasks in
                for n in 0..<4 {
                    tasks.addTask {
                        try await service.create(id: id, data: Array(#"{"n":\#(n)}"#.utf8), permanent: false, on: group.next()).get()
                    }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.compactMap { outcome -> Session? in
                if case let .created(session) = outcome { return session }
                return nil
            }
            #expect(winners.count == 1)
            #expect(try await service.read(id, at: clock.now(), on: loop).get() == winners.first)
        }
    }
}
