import NIOCore
import NIOPosix
import SessionCore
import Testing

/// Versions, `If-Match` conditions and touch, on every store.
@Suite("Store conformance: conditions and touch")
struct ConditionalWriteConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy(permanent: 31 * 86_400_000, standard: 86_400_000, absolute: nil)

    @Test(arguments: StoreUnderTest.allCases)
    func aStaleVersionConflictsAndWritesNothing(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = Session.fresh(now: clock.now(), policy: policy)
        try await store.insert(session, on: loop).get()
        let replace = SessionMutation.replace(data: Array(#"{"v":2}"#.utf8), permanent: false, subject: nil, lifetime: nil)
        let first = try await store.update(session.id, replace, if: .versions([1]), at: clock.now(), on: loop).get()
        #expect(first.session?.version == 2)
        let stale = try await store.update(session.id, dataPatch(#"{"v":3}"#), if: .versions([1]), at: clock.now(), on: loop).get()
        #expect(stale == .conflict(currentVersion: 2))
        let none = try await store.update(session.id, .touch, if: .versions([]), at: clock.now(), on: loop).get()
        #expect(none == .conflict(currentVersion: 2))
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == first.session)
        let listed = try await store.update(session.id, dataPatch(#"{"v":3}"#), if: .versions([7, 2]), at: clock.now(), on: loop).get()
        #expect(listed.session?.data == Array(#"{"v":3}"#.utf8))
        let absent = try await store.update(.random(), .touch, if: .versions([1]), at: clock.now(), on: loop).get()
        #expect(absent == .notFound)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aConditionalRemoveKeepsAMovedSession(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = Session.fresh(now: clock.now(), policy: policy)
        try await store.insert(session, on: loop).get()
        #expect(try await store.remove(session.id, if: .versions([5]), at: clock.now(), on: loop).get() == .conflict(currentVersion: 1))
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() != nil)
        #expect(try await store.remove(session.id, if: .versions([1]), at: clock.now(), on: loop).get() == .removed)
        #expect(try await store.remove(session.id, if: .versions([1]), at: clock.now(), on: loop).get() == .notFound)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func touchSlidesTheExpiryOnly(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = Session.fresh(permanent: true, now: clock.now(), policy: policy)
        try await store.insert(session, on: loop).get()
        clock.advance(milliseconds: 60_000)
        let touched = try #require(try await store.update(session.id, .touch, if: .always, at: clock.now(), on: loop).get().session)
        #expect(touched.version == 1)
        #expect(touched.updatedAt == session.updatedAt)
        #expect(touched.data == session.data)
        #expect(touched.expiresAt == clock.now().adding(milliseconds: policy.permanent))
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == touched)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func touchNeverPassesTheAbsoluteLifetime(kind: StoreUnderTest) async throws {
        let capped = LifetimePolicy(permanent: 100_000, standard: 10_000, absolute: 15_000)
        let store = kind.make(policy: capped, clock: clock)
        let start = clock.now()
        let session = Session.fresh(now: start, policy: capped)
        try await store.insert(session, on: loop).get()
        clock.advance(milliseconds: 9000)
        let touched = try await store.update(session.id, .touch, if: .always, at: clock.now(), on: loop).get()
        #expect(touched.session?.expiresAt == start.adding(milliseconds: 15_000))
        let late = try await store.update(session.id, .touch, if: .always, at: start.adding(milliseconds: 15_000), on: loop).get()
        #expect(late == .notFound)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func fiftyReadModifyWriteCyclesWithRetryCountToFifty(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = Session.fresh(#"{"counter":0}"#, now: clock.now(), policy: policy)
        try await store.insert(session, on: loop).get()
        let group = MultiThreadedEventLoopGroup.singleton
        let now = clock.now()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<50 {
                tasks.addTask {
                    let loop = group.next()
                    while true {
                        let current = try #require(try await store.load(session.id, at: now, on: loop).get())
                        let text = String(decoding: current.data, as: UTF8.self)
                        let counter = try #require(Int(text.dropFirst(#"{"counter":"#.count).dropLast()))
                        let next = SessionMutation.replace(data: Array(#"{"counter":\#(counter + 1)}"#.utf8), permanent: false, subject: nil, lifetime: nil)
                        let outcome = try await store.update(session.id, next, if: .versions([current.version]), at: now, on: loop).get()
                        if outcome.session != nil { return }
                        #expect(outcome == .conflict(currentVersion: outcome.conflictVersion ?? 0))
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let final = try #require(try await store.load(session.id, at: now, on: loop).get())
        #expect(final.data == Array(#"{"counter":50}"#.utf8))
        #expect(final.version == 51)
    }
}
