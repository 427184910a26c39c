import NIOCore
import NIOPosix
import RedisStore
import SessionCore
import Testing

/// Lifecycle events (`GET /events`) on every store: one event for each change that happened,
/// none for a change that did not, in order, with a cursor to resume from.
@Suite("Store conformance: lifecycle events")
struct EventConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy(rotationGrace: 10_000)

    /// The stores that record events: all but a cluster's.
    static let recording = StoreUnderTest.allCases.filter { $0 != .redisCluster }

    /// Every event recorded after `cursor`, read a few at a time.
    private func events(_ store: any SessionStore, after cursor: EventID) async throws -> [SessionEvent] {
        var all: [SessionEvent] = []
        var position = cursor
        while true {
            let page = try await store.events(after: position, limit: 3, on: loop).get()
            #expect(!page.missed)
            all += page.events
            if page.events.isEmpty { return all }
            position = page.cursor
        }
    }

    /// Makes the store notice the expiries due at the clock's now (the memory store's sweep,
    /// the Redis store's expiry recorder).
    private func noticeExpiries(_ store: any SessionStore) async throws {
        if let memory = store as? MemoryStore { memory.sweep(at: clock.now()) }
        if let redis = store as? RedisStore { _ = try await redis.recordExpiries(at: clock.now(), limit: 100, on: loop).get() }
    }

    @Test(arguments: recording)
    func everyLifecycleChangeRecordsOneEvent(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let service = SessionService(store: store, policy: policy, clock: clock, maxSessionsPerSubject: 1)
        #expect(store.recordsEvents)
        let start = try await store.events(after: nil, limit: 10, on: loop).get()
        #expect(start.events.isEmpty)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let device = Array(#"{"ua":"test"}"#.utf8)

        let first = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, device: device, on: loop).get()
        // Writes and touches are no lifecycle events.
        _ = try await service.update(first.id, dataPatch(#"{"a":1}"#), on: loop).get()
        _ = try await service.read(first.id, at: clock.now(), touch: true, on: loop).get()
        guard case let .rotated(moved) = try await service.rotate(first.id, on: loop).get() else {
            Issue.record("the rotation did not happen")
            return
        }
        #expect(try await service.delete(moved.id, on: loop).get() == .removed)
        let second = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        clock.advance(milliseconds: 10)
        let third = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        #expect(try await service.revoke(third.handle, of: subject, on: loop).get())
        let short = try await service.create(data: Array("{}".utf8), permanent: false, lifetime: 1000, on: loop).get()
        clock.advance(milliseconds: 1500)
        try await noticeExpiries(store)

        let recorded = try await events(store, after: start.cursor)
        let expected: [(SessionEvent.Kind, SessionHandle, Subject?)] = [
            (.created, first.handle, subject), (.rotated, moved.handle, subject), (.deleted, moved.handle, subject),
            (.created, second.handle, subject), (.limitEvicted, second.handle, subject), (.created, third.handle, subject),
            (.revoked, third.handle, subject), (.created, short.handle, nil), (.expired, short.handle, nil),
        ]
        #expect(recorded.map(\.kind) == expected.map(\.0))
        #expect(recorded.map(\.handle) == expected.map(\.1))
        #expect(recorded.map(\.subject) == expected.map(\.2))
        #expect(recorded.first?.device == device)
        #expect(recorded[1].from == first.handle && recorded[1].device == device)
        #expect(recorded.last?.time == short.expiresAt)
        #expect(recorded.map(\.id) == recorded.map(\.id).sorted() && Set(recorded.map(\.id)).count == recorded.count)
        // Told once: noticing again finds nothing more.
        try await noticeExpiries(store)
        #expect(try await events(store, after: recorded.last?.id ?? start.cursor).isEmpty)
    }

    @Test(arguments: recording)
    func aChangeThatDidNotHappenRecordsNothing(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let service = SessionService(store: store, policy: policy, clock: clock, maxSessionsPerSubject: 1)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let kept = try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, on: loop).get()
        let start = try await store.events(after: nil, limit: 10, on: loop).get()

        await #expect(throws: TooManySessions(subject: subject, limit: 1)) {
            try await service.create(data: Array("{}".utf8), permanent: false, subject: subject, onLimit: .refuse, on: loop).get()
        }
        #expect(try await service.create(id: kept.id, data: Array("{}".utf8), permanent: false, on: loop).get() == .idTaken)
        #expect(try await service.delete(kept.id, if: .versions([9]), on: loop).get() == .conflict(currentVersion: 1))
        #expect(try await service.delete(.random(), on: loop).get() == .notFound)
        #expect(try await service.revoke(kept.handle, of: try #require(Subject("someone-else")), on: loop).get() == false)
        #expect(try await service.rotate(kept.id, if: .versions([9]), on: loop).get() == .conflict(currentVersion: 1))
        #expect(try await service.rotate(.random(), on: loop).get() == .notFound)

        #expect(try await events(store, after: start.cursor).isEmpty)
    }

    @Test(arguments: recording)
    func aNewConsumerStartsFromNowAndIDZeroReadsEverythingKept(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let service = SessionService(store: store, policy: policy, clock: clock)
        let before = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        let now = try await store.events(after: nil, limit: 10, on: loop).get()
        #expect(now.events.isEmpty && !now.missed)
        let after = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        #expect(try await events(store, after: now.cursor).map(\.handle) == [after.handle])
        let everything = try await events(store, after: EventID(milliseconds: 0, sequence: 0)).map(\.handle)
        #expect(everything.suffix(2) == [before.handle, after.handle])
    }

    @Test func aClusterRecordsNoEvents() async throws {
        let store = StoreUnderTest.redisCluster.make(policy: policy, clock: clock)
        #expect(!store.recordsEvents)
        await #expect(throws: SessionStoreError.eventsOff) { try await store.events(after: nil, limit: 1, on: loop).get() }
    }
}
