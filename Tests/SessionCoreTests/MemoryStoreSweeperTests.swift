import NIOCore
import NIOPosix
import SessionCore
import Testing

@Suite("Memory store sweeper")
struct MemoryStoreSweeperTests {
    @Test func sweepingRemovesExpiredSessionsOnly() async throws {
        let clock = ManualClock()
        let policy = LifetimePolicy(permanent: 60_000, standard: 1000)
        let store = MemoryStore(policy: policy, clock: clock)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let service = SessionService(store: store, policy: policy, clock: clock)
        for index in 0..<1000 {
            _ = try await service.create(data: Array("{}".utf8), permanent: index < 10, on: loop).get()
        }
        #expect(store.storedCount == 1000)
        clock.advance(milliseconds: 1000)
        #expect(store.sweep(at: clock.now()) == 990)
        #expect(store.storedCount == 10)
    }

    @Test func theSweeperRunsOnItsOwn() async throws {
        let clock = ManualClock()
        let policy = LifetimePolicy(permanent: 1000, standard: 1000)
        let store = MemoryStore(policy: policy, clock: clock, configuration: .init(sweepInterval: .milliseconds(20)))
        let service = SessionService(store: store, policy: policy, clock: clock)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        for _ in 0..<100 {
            _ = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        }
        clock.advance(milliseconds: 1000)
        let sweeper = Task { try await store.run() }
        defer { sweeper.cancel() }
        var waited = 0
        while store.storedCount > 0 && waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(store.storedCount == 0)
    }
}
