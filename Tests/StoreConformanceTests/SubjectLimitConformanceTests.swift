import NIOCore
import NIOPosix
import SessionCore
import Testing

/// Per-subject session limits (`--max-sessions-per-subject`) on every store.
@Suite("Store conformance: per-subject session limits")
struct SubjectLimitConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy(rotationGrace: 10_000)

    private func service(_ kind: StoreUnderTest, limit: Int = 3) -> SessionService {
        SessionService(store: kind.make(policy: policy, clock: clock), policy: policy, clock: clock, maxSessionsPerSubject: limit)
    }

    private func live(_ service: SessionService, _ ids: [SessionID]) async throws -> [SessionID] {
        var found: [SessionID] = []
        for id in ids where try await service.read(id, at: clock.now(), on: loop).get() != nil { found.append(id) }
        return found
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aCreateBeyondTheLimitRevokesTheLeastRecentlySeen(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        var ids: [SessionID] = []
        for n in 0..<3 {
            ids.append(try await service.create(data: Array(#"{"n":\#(n)}"#.utf8), permanent: false, subject: subject, on: loop).get().id)
            clock.advance(milliseconds: 1000)
        }
        // The first is seen again (touched): the second is now the least recently seen.
        #expect(try await service.read(ids[0], at: clock.now(), touch: true, on: loop).get() != nil)
        clock.advance(milliseconds: 1000)
        let fourth = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        #expect(try await live(service, ids + [fourth.id]) == [ids[0], ids[2], fourth.id])
        #expect(try await service.sessions(of: subject, on: loop).get().count == 3)
        // Without a subject, or of another subject: no limit.
        for _ in 0..<5 { _ = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get() }
        #expect(try await live(service, ids + [fourth.id]) == [ids[0], ids[2], fourth.id])
    }

    @Test(arguments: StoreUnderTest.allCases)
    func refusingLeavesEverythingAsItWas(kind: StoreUnderTest) async throws {
        let service = service(kind, limit: 2)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let first = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        let second = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, onLimit: .refuse, on: loop).get()
        await #expect(throws: TooManySessions(subject: subject, limit: 2)) {
            try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, onLimit: .refuse, on: loop).get()
        }
        let minted = SessionID.random()
        await #expect(throws: TooManySessions(subject: subject, limit: 2)) {
            try await service.create(id: minted, data: Array("{}".utf8), permanent: false, subject: subject, onLimit: .refuse, on: loop).get()
        }
        #expect(try await live(service, [first.id, second.id, minted]) == [first.id, second.id])
        // A logout frees its place, whether or not the delete told the table.
        #expect(try await service.delete(first.id, on: loop).get() == .removed)
        let third = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, onLimit: .refuse, on: loop).get()
        #expect(try await live(service, [second.id, third.id]) == [second.id, third.id])
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aRotationKeepsTheCountAndTheNewSidIsWhatGetsEvicted(kind: StoreUnderTest) async throws {
        let service = service(kind, limit: 2)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let first = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        clock.advance(milliseconds: 1000)
        let second = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        clock.advance(milliseconds: 1000)
        guard case let .rotated(moved) = try await service.rotate(first.id, on: loop).get() else {
            Issue.record("expected a rotation")
            return
        }
        clock.advance(milliseconds: 1000)
        // Two live sessions still: the rotation did not take a place of its own. The next create
        // evicts the least recently seen, the second (the rotation saw the first's copy).
        let third = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, onLimit: .evictOldest, on: loop).get()
        #expect(try await live(service, [second.id, moved.id, third.id]) == [moved.id, third.id])
        await #expect(throws: TooManySessions(subject: subject, limit: 2)) {
            try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, onLimit: .refuse, on: loop).get()
        }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func twentyConcurrentCreatesLeaveAtMostTheLimit(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let group = MultiThreadedEventLoopGroup.singleton
        let created = try await withThrowingTaskGroup(of: SessionID.self) { tasks in
            for n in 0..<20 {
                tasks.addTask {
                    try await service.create(data: Array(#"{"n":\#(n)}"#.utf8), permanent: false, subject: subject, on: group.next()).get().id
                }
            }
            var ids: [SessionID] = []
            for try await id in tasks { ids.append(id) }
            return ids
        }
        #expect(created.count == 20)
        // Never more than the limit; concurrent creates may evict each other's sessions, so
        // fewer can remain, never none.
        let survivors = try await live(service, created)
        #expect((1...3).contains(survivors.count), "\(survivors.count) live")
        #expect(try await service.sessions(of: subject, on: loop).get().count == survivors.count)
    }
}
